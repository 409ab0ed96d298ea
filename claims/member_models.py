"""Member services (健康管理服务) and claim reports by phone (报案) — issue 23 item 5.

A contract's member services are data: entitlement groups with their limits (a yearly count,
a subsidy rate with a cap per use and per year, an eligibility attribute, "choose one of"),
and the kinds of service in each group. The window records each use against them
(`claims.members.entitlement_use_record`), which refuses what exceeds a limit, naming it.

Split from claims/models.py only for file size (imported there, same app)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids

MONEY = {"max_digits": 14, "decimal_places": 2}

#: Enrollment attributes a group may require (boolean fields of programs.Enrollment).
ELIGIBILITY_CHOICES = [
    ("", _("every insured person")),
    ("continuous_no_claim_3y", _("3 years continuously insured without claim")),
]


class _ContractRows(models.QuerySet):
    def for_user(self, user):
        from programs.models import Contract

        return self if area_scope_ids(user) is None else self.filter(contract__in=Contract.objects.for_user(user))


class EntitlementGroup(models.Model):
    """One group of a contract's member services sharing its limits (e.g. Beijing's nursing-type
    services: 5 a year together; drug purchase discount: 10 % subsidised, at most 400 yuan a
    purchase and 1,800 a year, 12 purchases; the extra services: one of six, once, for persons
    insured three years in a row without a claim). An empty limit is no limit."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="entitlement_groups")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=60, help_text=_("the name the refusals and the person page use"))
    yearly_count_limit = models.PositiveSmallIntegerField(_("uses per year"), null=True, blank=True,
                                                          help_text=_("all kinds of the group together; empty: no limit"))
    subsidy_rate = models.DecimalField(_("subsidy rate"), max_digits=5, decimal_places=4, null=True, blank=True,
                                       help_text=_("share of the purchase amount subsidised (0.1: 10 %); empty: no amount"))
    per_use_cap = models.DecimalField(_("subsidy cap per use"), **MONEY, null=True, blank=True)
    yearly_amount_cap = models.DecimalField(_("subsidy cap per year"), **MONEY, null=True, blank=True)
    eligibility = models.CharField(_("only for"), max_length=40, blank=True, choices=ELIGIBILITY_CHOICES)
    choose_one = models.BooleanField(_("one kind per year"), default=False,
                                     help_text=_("once a kind is chosen for the year, the others are refused"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    source = models.TextField(_("contract clause"), blank=True)
    history = HistoricalRecords()

    objects = _ContractRows.as_manager()

    class Meta:
        verbose_name = _("member service group")
        verbose_name_plural = _("member service groups")
        ordering = ["contract", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "code"], name="entitlement_group_unique"),
            models.CheckConstraint(condition=Q(subsidy_rate__isnull=True) | Q(subsidy_rate__gt=0, subsidy_rate__lte=1),
                                   name="entitlement_group_rate_range"),
            models.CheckConstraint(condition=Q(subsidy_rate__isnull=False)
                                   | Q(per_use_cap__isnull=True, yearly_amount_cap__isnull=True),
                                   name="entitlement_group_caps_need_rate"),
            models.CheckConstraint(condition=(Q(per_use_cap__isnull=True) | Q(per_use_cap__gt=0))
                                   & (Q(yearly_amount_cap__isnull=True) | Q(yearly_amount_cap__gt=0)),
                                   name="entitlement_group_caps_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def with_amount(self) -> bool:
        return self.subsidy_rate is not None

    @property
    def rate_percent(self) -> str:
        return "" if self.subsidy_rate is None else f"{(self.subsidy_rate * 100).normalize():f}%"


class EntitlementKindQuerySet(models.QuerySet):
    def for_user(self, user):
        return self if area_scope_ids(user) is None else self.filter(group__in=EntitlementGroup.objects.for_user(user))


class EntitlementKind(models.Model):
    """One service of a group (就医陪护, 居家康复类, …, 口腔健康)."""

    group = models.ForeignKey(EntitlementGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="kinds")
    name = models.CharField(_("name"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    objects = EntitlementKindQuerySet.as_manager()

    class Meta:
        verbose_name = _("member service")
        verbose_name_plural = _("member services")
        ordering = ["group", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="entitlement_kind_unique")]

    def __str__(self) -> str:
        return self.name


class AreaRowsQuerySet(models.QuerySet):
    def for_user(self, user):
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)


class EntitlementUse(models.Model):
    """One use of a member service, or one discounted drug purchase, recorded at the window.
    Append-only; written only by `claims.members.entitlement_use_record` under the lock of the
    person's enrollment row, so that two windows cannot both take the last remaining use."""

    person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("insured person"), on_delete=models.PROTECT,
                               related_name="entitlement_uses")
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="entitlement_uses")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    kind = models.ForeignKey(EntitlementKind, verbose_name=_("service"), on_delete=models.PROTECT, related_name="uses")
    used_on = models.DateField(_("date of use"))
    purchase_amount = models.DecimalField(_("purchase amount"), **MONEY, null=True, blank=True)
    subsidy = models.DecimalField(_("subsidy"), **MONEY, default=0)
    recorded_by = models.ForeignKey("accounts.User", verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = AreaRowsQuerySet.as_manager()

    class Meta:
        verbose_name = _("member service use")
        verbose_name_plural = _("member service uses")
        ordering = ["-used_on", "-id"]
        default_permissions = ("add", "view")
        indexes = [models.Index(fields=["person", "contract"], name="entitlement_use_person")]
        constraints = [
            models.CheckConstraint(condition=Q(subsidy__gte=0), name="entitlement_use_subsidy_non_negative"),
            models.CheckConstraint(condition=Q(purchase_amount__isnull=True) | Q(purchase_amount__gt=0),
                                   name="entitlement_use_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.used_on}"


class ClaimReport(models.Model):
    """A claim reported by phone (报案): who called and when, whom it is about, what they were
    told to bring (the contract's document checklist). Registering the claim when the documents
    arrive links it here (`claim`), in the registration's own transaction."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="claim_reports")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("insured person"), on_delete=models.PROTECT,
                               null=True, blank=True, related_name="claim_reports",
                               help_text=_("empty while the caller's ID number is not known"))
    insured_name = models.CharField(_("insured person's name (as told)"), max_length=60, blank=True)
    caller_name = models.CharField(_("caller"), max_length=60)
    caller_phone = models.CharField(_("caller's phone"), max_length=20)
    caller_relation = models.CharField(_("relation to the insured person"), max_length=20, blank=True)
    reported_at = models.DateTimeField(_("reported at"))
    received_by = models.ForeignKey("accounts.User", verbose_name=_("call taken by"), on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(_("what happened"), blank=True)
    told_to_bring = models.ManyToManyField("claims.DocumentRequirement", verbose_name=_("told to bring"), blank=True,
                                           related_name="+")
    note = models.TextField(_("note"), blank=True)
    claim = models.OneToOneField("claims.Claim", verbose_name=_("claim"), on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="phone_report")
    converted_at = models.DateTimeField(_("claim registered at"), null=True, blank=True)
    history = HistoricalRecords()

    objects = AreaRowsQuerySet.as_manager()

    class Meta:
        verbose_name = _("claim report")
        verbose_name_plural = _("claim reports")
        ordering = ["-reported_at", "-id"]
        default_permissions = ("add", "change", "view")
        constraints = [
            models.CheckConstraint(condition=Q(claim__isnull=True, converted_at__isnull=True)
                                   | Q(claim__isnull=False, converted_at__isnull=False),
                                   name="claim_report_converted_with_claim"),
            models.CheckConstraint(condition=Q(person__isnull=False) | ~Q(insured_name=""),
                                   name="claim_report_names_the_insured"),
        ]

    def __str__(self) -> str:
        return f"{self.reported_at:%Y-%m-%d %H:%M}"
