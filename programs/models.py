"""Programs, contracts, parties, areas, insured persons and their enrollments.

Every user-visible record hangs off an administrative area; `for_user(user)` on each queryset is
the single source of truth for who may see what (see insurance_admin/accounts/scoping.py).
"""

import json
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import ExtractYear, Length
from django.db.models.lookups import Exact
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids
from insurance_admin.core.masking import mask_certno, mask_name
from insurance_admin.core.money import MONEY
from programs.benefit_rules import PlanFormatError, plan_from_dict, validate_plan

from .identity import normalize_certno, parse_certno

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class PartyQuerySet(models.QuerySet):
    def for_user(self, user) -> "PartyQuerySet":
        """A party is visible to users who see one of its contracts. A party not yet named in any
        contract belongs to no region: it stays visible to staff so that the administrator who
        has just entered it can name it in a contract (it holds no insured person's data)."""
        if area_scope_ids(user) is None:
            return self
        contracts = Contract.objects.for_user(user)
        return self.filter(
            Q(pk__in=contracts.values("authority_id"))
            | Q(pk__in=contracts.values("insurer_id"))
            | (Q(contracts_as_authority__isnull=True) & Q(contracts_as_insurer__isnull=True))
        ).distinct()


class PartyKind(models.TextChoices):
    AUTHORITY = "authority", _("Authority (policyholder)")
    INSURER = "insurer", _("Insurer")


class Party(models.Model):
    """甲方 (authority / policyholder) or 乙方 (insurer)."""

    Kind = PartyKind

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, unique=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    bank_name = models.CharField(_("bank"), max_length=200, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    history = HistoricalRecords()

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PartyKind.values), name="party_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartyContactQuerySet(models.QuerySet):
    def for_user(self, user) -> "PartyContactQuerySet":
        return self if area_scope_ids(user) is None else self.filter(party__in=Party.objects.for_user(user))


class PartyContact(models.Model):
    """A named contact of a party, e.g. the insurer's service team (组长, 理赔A岗 …)."""

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=60)
    role = models.CharField(_("role"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.EmailField(_("email"), blank=True)

    objects = PartyContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["party", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


class AreaQuerySet(models.QuerySet):
    def for_user(self, user) -> "AreaQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(pk__in=ids)

    def counties(self) -> "AreaQuerySet":
        return self.filter(level=Area.Level.COUNTY)


class AreaLevel(models.TextChoices):
    POOL = "pool", _("Pooling region")
    COUNTY = "county", _("County-level area")


class Area(models.Model):
    """统筹区 (pooling region, e.g. 通辽市) and its 旗县市区/县区 (county-level areas).

    `code` is the GB/T 2260 division code (6 digits) where one exists.
    """

    Level = AreaLevel

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=60)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("pooling region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    history = HistoricalRecords()

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        constraints = [
            # A pooling region is a root; a county-level area always sits in one.
            models.CheckConstraint(
                condition=(Q(level="pool", parent__isnull=True) | Q(level="county", parent__isnull=False)),
                name="area_level_matches_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.level == self.Level.COUNTY and self.parent and self.parent.level != self.Level.POOL:
            raise ValidationError({"parent": gettext("A county-level area must belong to a pooling region.")})


class ProgramQuerySet(models.QuerySet):
    def for_user(self, user) -> "ProgramQuerySet":
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(region_id__in=ids)


class ProgramKind(models.TextChoices):
    CRITICAL_ILLNESS = "critical_illness", _("Residents' critical-illness insurance")
    EMPLOYEE_SUPPLEMENTARY = "employee_supplementary", _("Employees' large-amount supplementary insurance")
    INCLUSIVE_COMMERCIAL = "inclusive_commercial", _("Inclusive commercial health insurance")


class Program(models.Model):
    Kind = ProgramKind

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    region = models.ForeignKey(
        Area,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="programs",
        help_text=_("The pooling region (or county) the program covers."),
    )
    history = HistoricalRecords()

    objects = ProgramQuerySet.as_manager()

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ProgramKind.values),
                name="program_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def platform_paid_field(self) -> str | None:
        """The settlement field in which the national platform reports this kind's payment."""
        return PLATFORM_PAID_FIELD[self.kind]


# The national platform reports critical-illness payments in hifmi_pay and employees'
# large-amount supplements in hifob_pay; inclusive commercial insurance is not settled there.
PLATFORM_PAID_FIELD = {
    Program.Kind.CRITICAL_ILLNESS: "hifmi_pay",
    Program.Kind.EMPLOYEE_SUPPLEMENTARY: "hifob_pay",
    Program.Kind.INCLUSIVE_COMMERCIAL: None,
}


class ContractQuerySet(models.QuerySet):
    def for_user(self, user, *, drafts: bool = False) -> "ContractQuerySet":
        """The contracts `user` may see. A draft (a renewal being prepared) is not usable for
        enrollment, claims or trials until activated: only the renewal pages ask for drafts."""
        qs = self if drafts else self.exclude(status=ContractStatus.DRAFT)
        ids = region_scope_ids(user)
        return qs if ids is None else qs.filter(program__region_id__in=ids)

    def in_use(self) -> "ContractQuerySet":
        """Activated contracts, open or closed (a closed year stays readable)."""
        return self.exclude(status=ContractStatus.DRAFT)


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (renewal being prepared)")
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Year closed")


class Contract(models.Model):
    """One program year's agreement (协议/合同) between an authority and an insurer."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    program = models.ForeignKey(Program, verbose_name=_("program"), on_delete=models.PROTECT, related_name="contracts")
    name = models.CharField(_("title"), max_length=200)
    year = models.PositiveSmallIntegerField(_("insurance year"))
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    signed_on = models.DateField(
        _("signing date"), null=True, blank=True, help_text=_("Empty while the signed copy is not on file.")
    )
    service_cycle_start = models.DateField(_("service cycle start"))
    service_cycle_end = models.DateField(_("service cycle end"))
    authority = models.ForeignKey(
        Party, verbose_name=_("authority"), on_delete=models.PROTECT, related_name="contracts_as_authority"
    )
    insurer = models.ForeignKey(
        Party, verbose_name=_("insurer"), on_delete=models.PROTECT, related_name="contracts_as_insurer"
    )
    headcount_provisional = models.PositiveIntegerField(_("provisional headcount"), null=True, blank=True)
    headcount_provisional_date = models.DateField(_("provisional headcount cut-off"), null=True, blank=True)
    headcount_final = models.PositiveIntegerField(_("final headcount"), null=True, blank=True)
    headcount_final_date = models.DateField(_("final headcount cut-off"), null=True, blank=True)
    total_premium = models.DecimalField(
        _("total premium"),
        **MONEY,
        null=True,
        blank=True,
        validators=NON_NEGATIVE,
        help_text=_("Yuan, as stated in the contract (provisional until the final headcount)."),
    )
    slip_title = models.CharField(
        _("settlement slip title"), max_length=200, blank=True, help_text=_("Empty: the contract title is used.")
    )
    notes = models.TextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=8, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    renewed_from = models.OneToOneField(
        "self", verbose_name=_("renewal of"), on_delete=models.PROTECT, null=True, blank=True, related_name="renewal",
        help_text=_("The previous year's contract this one renews."),
    )
    history = HistoricalRecords()

    Status = ContractStatus
    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-year", "code"]
        constraints = [
            models.UniqueConstraint(fields=["program", "year"], name="contract_one_per_program_year"),
            models.CheckConstraint(condition=Q(period_start__lte=F("period_end")), name="contract_period_ordered"),
            models.CheckConstraint(
                condition=Exact(ExtractYear("period_start"), F("year")), name="contract_period_in_year"
            ),
            models.CheckConstraint(
                condition=Q(service_cycle_start__lte=F("period_start"), service_cycle_end__gte=F("period_end")),
                name="contract_period_within_service_cycle",
            ),
            models.CheckConstraint(
                condition=Q(total_premium__isnull=True) | Q(total_premium__gte=0), name="contract_premium_non_negative"
            ),
            models.CheckConstraint(condition=Q(status__in=ContractStatus.values), name="contract_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name  # people read the title; the code is the URL's and the plan's key

    def clean(self) -> None:
        errors = {}
        if self.period_start and self.period_end:
            if self.period_start > self.period_end:
                errors["period_end"] = gettext("The period must not end before it starts.")
            if self.year and (self.period_start.year != self.year):
                errors["period_start"] = gettext(
                    "The period starts in %(start)s but the contract year is %(year)s."
                ) % {"start": self.period_start.year, "year": self.year}
            if self.service_cycle_start and self.service_cycle_end and not (
                self.service_cycle_start <= self.period_start and self.period_end <= self.service_cycle_end
            ):
                errors["service_cycle_end"] = gettext("The contract period must lie within the service cycle.")
        if self.authority_id and self.authority.kind != Party.Kind.AUTHORITY:
            errors["authority"] = gettext("%(name)s is not an authority.") % {"name": self.authority}
        if self.insurer_id and self.insurer.kind != Party.Kind.INSURER:
            errors["insurer"] = gettext("%(name)s is not an insurer.") % {"name": self.insurer}
        if errors:
            raise ValidationError(errors)

    @property
    def headcount(self) -> int | None:
        """The headcount premiums are computed on now: final once known, else provisional."""
        return self.headcount_final if self.headcount_final is not None else self.headcount_provisional

    @property
    def effective_slip_title(self) -> str:
        """The contract's own slip title, else "<program>结算单" (a contract's full name reads
        like an agreement, not like a slip)."""
        return self.slip_title or f"{self.program.name}结算单"


class PremiumRateQuerySet(models.QuerySet):
    def for_user(self, user) -> "PremiumRateQuerySet":
        return self if area_scope_ids(user) is None else self.filter(contract__in=Contract.objects.for_user(user))


class PremiumRateCategory(models.TextChoices):
    ANY = "any", _("Any category")
    ORDINARY = "ordinary", _("Ordinary")
    SPECIAL = "special", _("Special")


class PremiumRateEmployment(models.TextChoices):
    ANY = "any", _("Any employment")
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class HeadcountCategory(models.TextChoices):
    """The category a premium's headcount is counted in (the keys of a premium schedule's headcounts)."""

    RESIDENT = "resident", _("residents")
    INSURED = "insured", _("insured persons")
    ACTIVE = "active", _("active employees")
    RETIRED = "retired", _("retirees")


class PremiumRate(models.Model):
    """Per-capita premium of one category of insured person (筹资标准), yuan per person-year.
    The one source of the per-capita premium: the premium schedule reads it from here, keyed by
    `headcount_category`."""

    Category = PremiumRateCategory
    Employment = PremiumRateEmployment
    HeadcountCategory = HeadcountCategory

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="premium_rates")
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.ANY)
    employment = models.CharField(_("employment"), max_length=16, choices=Employment.choices, default=Employment.ANY)
    headcount_category = models.CharField(
        _("headcount category"), max_length=16, choices=HeadcountCategory.choices, default=HeadcountCategory.INSURED,
        help_text=_("The category the premium schedule counts these persons in."))
    per_capita = models.DecimalField(_("per-capita premium"), **MONEY, validators=NON_NEGATIVE)
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords()

    objects = PremiumRateQuerySet.as_manager()

    class Meta:
        verbose_name = _("premium rate")
        verbose_name_plural = _("premium rates")
        constraints = [
            models.UniqueConstraint(fields=["contract", "category", "employment"], name="premium_rate_unique"),
            models.UniqueConstraint(fields=["contract", "headcount_category"], name="premium_rate_headcount_category_unique"),
            models.CheckConstraint(condition=Q(per_capita__gte=0), name="premium_rate_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} / {self.get_employment_display()}: {self.per_capita}"


class InsuredPersonQuerySet(models.QuerySet):
    def for_user(self, user) -> "InsuredPersonQuerySet":
        ids = area_scope_ids(user)
        if ids is None:
            return self
        return self.filter(
            Exists(Enrollment.objects.filter(person_id=OuterRef("pk"), area_id__in=ids))
        )


class InsuredPersonSex(models.TextChoices):
    MALE = "1", _("Male")
    FEMALE = "2", _("Female")


class InsuredPerson(models.Model):
    """参保人. Identity is the resident ID number; birth date and sex must agree with it."""

    Sex = InsuredPersonSex

    # Unique through a constraint, not unique=True: on PostgreSQL that would add a second,
    # `varchar_pattern_ops` (`_like`) index that only LIKE lookups use — certno is only ever
    # looked up exactly, and every index costs time when millions of persons are imported.
    certno = models.CharField(_("ID number"), max_length=18)
    # NULL, not "": psn_no is unique where present and many persons come without one.
    psn_no = models.CharField(  # noqa: DJ001
        _("person number"), max_length=30, null=True, blank=True, help_text=_("psn_no on the national platform.")
    )
    name = models.CharField(_("name"), max_length=60, db_index=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    history = HistoricalRecords(excluded_fields=[])

    objects = InsuredPersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")
        ordering = ["name", "certno"]
        permissions = [
            ("view_full_identity", _("Can see full ID numbers and names")),
        ]
        constraints = [
            models.CheckConstraint(condition=Exact(Length("certno"), 18), name="person_certno_18_chars"),
            models.CheckConstraint(condition=Q(sex__in=InsuredPersonSex.values), name="person_sex_valid"),
            models.UniqueConstraint(fields=["certno"], name="person_certno_unique"),
            models.UniqueConstraint(
                fields=["psn_no"], condition=Q(psn_no__isnull=False), name="person_psn_no_unique"
            ),
        ]

    def __str__(self) -> str:
        # Masked by default: __str__ ends up in admin links, logs and history; views that may
        # show the full identity render name and certno explicitly.
        return f"{mask_name(self.name)}（{mask_certno(self.certno)}）"

    def clean(self) -> None:
        self.certno = normalize_certno(self.certno)
        if self.psn_no == "":
            self.psn_no = None
        try:
            birth, sex = parse_certno(self.certno)
        except ValidationError as exc:
            raise ValidationError({"certno": exc.messages}) from None
        errors = {}
        if self.birth_date and self.birth_date != birth:
            errors["birth_date"] = gettext("Birth date %(given)s does not match the ID number (%(id)s).") % {
                "given": self.birth_date.isoformat(),
                "id": birth.isoformat(),
            }
        if self.sex and self.sex != sex:
            errors["sex"] = gettext("Sex does not match the ID number.")
        if errors:
            raise ValidationError(errors)
        self.birth_date = self.birth_date or birth
        self.sex = self.sex or sex


class EnrollmentQuerySet(models.QuerySet):
    def for_user(self, user) -> "EnrollmentQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)

    def in_force(self) -> "EnrollmentQuerySet":
        return self.exclude(status=Enrollment.Status.CANCELLED)


class EnrollmentCategory(models.TextChoices):
    ORDINARY = "ordinary", _("Ordinary")
    SPECIAL = "special", _("Special")


class EnrollmentEmployment(models.TextChoices):
    ACTIVE = "active", _("Active")
    RETIRED = "retired", _("Retired")


class EnrollmentHealth(models.TextChoices):
    HEALTHY = "healthy", _("Healthy")
    PREEXISTING = "preexisting", _("Pre-existing condition")


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Exited")
    CANCELLED = "cancelled", _("Cancelled")


class EnrollmentSource(models.TextChoices):
    GROUP = "group", _("Group")
    INDIVIDUAL = "individual", _("Individual")


class Enrollment(models.Model):
    """A person's enrollment in one contract, with the attributes the benefit rules select on."""

    Category = EnrollmentCategory
    Employment = EnrollmentEmployment
    Health = EnrollmentHealth
    Status = EnrollmentStatus
    Source = EnrollmentSource

    person = models.ForeignKey(InsuredPerson, verbose_name=_("insured person"), on_delete=models.PROTECT, related_name="enrollments")
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="enrollments")
    # No single-column index: the (area, contract) index below serves area lookups, and one
    # index fewer matters when millions of rows are loaded at once.
    area = models.ForeignKey(
        Area, verbose_name=_("area"), on_delete=models.PROTECT, related_name="enrollments", db_index=False
    )
    category = models.CharField(_("category"), max_length=16, choices=Category.choices, default=Category.ORDINARY)
    category_detail = models.CharField(
        _("category detail"), max_length=30, blank=True, help_text=_("e.g. 特困, 孤儿, 低保, 低保残疾, 返贫致贫")
    )
    employment = models.CharField(_("employment"), max_length=16, choices=Employment.choices, default=Employment.ACTIVE)
    health = models.CharField(_("health"), max_length=16, choices=Health.choices, default=Health.HEALTHY)
    continuous_no_claim_3y = models.BooleanField(_("3 years continuously insured without claim"), default=False)
    student = models.BooleanField(_("student or pre-school child"), default=False)
    enrolled_from = models.DateField(_("enrolled from"))
    enrolled_to = models.DateField(_("enrolled to"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.GROUP)
    # The current area/category/employment/suspension hold since this date (empty: since
    # enrolled_from); earlier states are EnrollmentPeriod rows (programs/registry_models.py).
    attributes_from = models.DateField(_("attributes valid from"), null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("superseded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The group enrollment that replaced this individual policy."),
        db_index=False,  # almost always empty; a partial index below
    )
    history = HistoricalRecords()

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-contract__year", "contract__code"]
        constraints = [
            # One policy per person per contract; a cancelled policy no longer counts.
            models.UniqueConstraint(
                fields=["person", "contract"],
                condition=~Q(status="cancelled"),
                name="enrollment_one_per_person_contract",
                violation_error_message=_("This person is already enrolled in this contract."),
            ),
            models.CheckConstraint(
                condition=Q(enrolled_to__isnull=True) | Q(enrolled_to__gte=F("enrolled_from")),
                name="enrollment_dates_ordered",
            ),
            models.CheckConstraint(condition=Q(category__in=EnrollmentCategory.values), name="enrollment_category_valid"),
            models.CheckConstraint(condition=Q(employment__in=EnrollmentEmployment.values), name="enrollment_employment_valid"),
            models.CheckConstraint(condition=Q(health__in=EnrollmentHealth.values), name="enrollment_health_valid"),
            models.CheckConstraint(
                condition=Q(status__in=EnrollmentStatus.values), name="enrollment_status_valid"
            ),
            models.CheckConstraint(condition=Q(source__in=EnrollmentSource.values), name="enrollment_source_valid"),
        ]
        indexes = [
            models.Index(fields=["area", "contract"], name="enrollment_area_contract"),
            models.Index(
                fields=["superseded_by"], name="enrollment_superseded_by",
                condition=Q(superseded_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.contract.name}"

    def clean(self) -> None:
        errors = {}
        if self.area_id and self.area.level != Area.Level.COUNTY:
            errors["area"] = gettext("Choose a county-level area, not a pooling region.")
        if self.contract_id and self.area_id:
            region = self.contract.program.region
            if self.area_id != region.pk and self.area.parent_id != region.pk:
                errors["area"] = gettext("%(area)s is not covered by %(program)s.") % {
                    "area": self.area,
                    "program": self.contract.program,
                }
        if self.contract_id and self.enrolled_from:
            c = self.contract
            if not (c.period_start <= self.enrolled_from <= c.period_end):
                errors["enrolled_from"] = gettext("Enrollment must start within the contract period %(s)s – %(e)s.") % {
                    "s": c.period_start.isoformat(),
                    "e": c.period_end.isoformat(),
                }
        if self.enrolled_from and self.enrolled_to and self.enrolled_to < self.enrolled_from:
            errors["enrolled_to"] = gettext("Enrollment must not end before it starts.")
        if errors:
            raise ValidationError(errors)


class BenefitPlanQuerySet(models.QuerySet):
    def for_user(self, user) -> "BenefitPlanQuerySet":
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class BenefitPlan(models.Model):
    """A contract's benefit rules (DOMAIN.md §4) as data: the engine's plan document.

    `rules` is the dict form read by `programs.benefit_rules.plan_from_dict`: liabilities with their
    base formulas, schedules (deductible and bands per person/record selector and date range),
    caps, shared caps, per-item caps and named parameters. Every save is validated with the
    engine's own checks and recorded in the history; `version` counts the saves.
    """

    contract = models.OneToOneField(Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="benefit_plan")
    rules = models.JSONField(_("rules"), help_text=_("The plan document (liabilities, schedules, caps, parameters)."))
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    objects = BenefitPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("benefit plan")
        verbose_name_plural = _("benefit plans")
        ordering = ["contract__code"]

    def __str__(self) -> str:
        return f"{self.contract.name} v{self.version}"

    def clean(self) -> None:
        try:
            plan = plan_from_dict(self.rules)
        except (PlanFormatError, TypeError) as exc:
            raise ValidationError({"rules": gettext("The rules are malformed: %(msg)s") % {"msg": exc}}) from None
        problems = validate_plan(plan)
        if self.contract_id:
            c = self.contract
            if plan.code != c.code:
                problems.append(f'code "{plan.code}" differs from the contract code "{c.code}"')
            if (plan.year, plan.period_start, plan.period_end) != (c.year, c.period_start, c.period_end):
                problems.append(
                    f"year/period {plan.year} {plan.period_start}..{plan.period_end} differ from the contract's "
                    f"{c.year} {c.period_start}..{c.period_end}"
                )
        if problems:
            raise ValidationError({"rules": [gettext("Rule check failed: %(msg)s") % {"msg": p} for p in problems]})

    def engine_plan(self):
        """The parsed engine plan, cached per rules document in this process."""
        return _engine_plan(self.rules)


_PLAN_CACHE: dict[str, object] = {}


def _engine_plan(rules: dict):
    """Keyed by the document itself, not (row, version): a version number can be reused when
    the transaction that first wrote it rolled back, the text cannot lie."""
    key = json.dumps(rules, sort_keys=True)
    plan = _PLAN_CACHE.get(key)
    if plan is None:
        if len(_PLAN_CACHE) > 64:
            _PLAN_CACHE.clear()
        plan = _PLAN_CACHE[key] = plan_from_dict(rules)
    return plan


from .access_models import IdentityAccess  # noqa: E402,F401
from .registry_models import (  # noqa: E402,F401  (same app; split only for file size)
    EnrollmentPeriod,
    HeadcountSnapshot,
    ImportBatch,
    ImportBatchStatusChange,
    SmsNotification,
)
