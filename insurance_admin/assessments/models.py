"""Assessments (考核) as data (DOMAIN.md §7, seed 001 art. 10, seeds 002 art. 38/42, 004 art. 36).

A contract's `AssessmentTemplate` holds its scored items (weights summing to 100), its grade
bands, and the money rules its outcome applies: a premium deduction (Tongliao's last 20 %
installment "according to the assessment up to November") and the return or forfeiture of a
guarantee deposit (Taikang, Zhenping). Nothing contract-specific lives in code: a new
contract gets a template row, items and bands.

Items are either *measured* (a KPI of `insurance_admin.kpis.registry`, named by key, with a
linear scoring rule as data) or *inspected* (points from the county offices' daily
`SupervisionRecord`s). An `Assessment` of a period stores each item's score with the basis
it was computed from, the total, the grade and — once decided — the outcome and the finance
entries it booked through `finance.services`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from finance.models import LedgerEntry
from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids
from insurance_admin.core.money import MONEY
from insurance_admin.kpis import registry

POINTS = {"max_digits": 6, "decimal_places": 2}
HUNDRED = Decimal("100")
ZERO = Decimal("0.00")


class ContractScopedQuerySet(models.QuerySet):
    """Rows of a whole contract: visible to users of the contract's region or of one of its counties."""

    contract_path = "contract"

    def for_user(self, user):
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(**{f"{self.contract_path}__program__region_id__in": ids})


class TemplatePartQuerySet(ContractScopedQuerySet):
    contract_path = "template__contract"


class ScorePartQuerySet(ContractScopedQuerySet):
    contract_path = "assessment__contract"


class AreaScopedQuerySet(models.QuerySet):
    """Rows of one area (a county, or the contract's region): a county user sees their county's."""

    def for_user(self, user):
        regions = region_scope_ids(user)
        if regions is None:
            return self
        return self.filter(contract__program__region_id__in=regions, area_id__in=area_scope_ids(user))


class AssessmentTemplate(models.Model):
    """The assessment method (考核办法) of one contract, as data."""

    class Deduction(models.TextChoices):
        NONE = "none", _("No premium deduction")
        PER_POINT = "per_point", _("Amount per point below the threshold")
        GRADE_SHARE = "grade_share", _("Share of the installment by grade")

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                    related_name="assessment_template")
    name = models.CharField(_("name"), max_length=200)
    basis = models.TextField(_("contract basis"), blank=True, help_text=_("The clauses the template follows, and its assumptions."))
    rereview_working_days = models.PositiveSmallIntegerField(
        _("re-review within (working days)"), default=30, help_text=_("After a failed assessment (seeds 002 art. 42, 004 art. 36)."))
    default_period_end = models.DateField(_("assessed up to"), null=True, blank=True,
                                          help_text=_("Default end of the annual period (Tongliao: up to November); empty: the contract's end."))
    deduction_method = models.CharField(_("premium deduction"), max_length=16, choices=Deduction.choices, default=Deduction.NONE)
    deduction_threshold = models.DecimalField(_("deduction threshold (points)"), **POINTS, null=True, blank=True,
                                              help_text=_("Per-point deduction: each point below this score is deducted."))
    deduction_per_point = models.DecimalField(_("amount per point (yuan)"), **MONEY, null=True, blank=True)
    deduction_installment_seq = models.PositiveSmallIntegerField(
        _("deducted from installment no."), null=True, blank=True,
        help_text=_("The premium installment the deduction is taken from (and the cap of the deduction)."))
    deposit_kind = models.CharField(_("deposit tied to the assessment"), max_length=16, blank=True,
                                    choices=[("contract", _("Contract deposit")), ("annual", _("Annual deposit")),
                                             ("assessment", _("Assessment deposit"))])
    deposit_needs_cases_closed = models.BooleanField(
        _("deposit returned only after the cases close"), default=False,
        help_text=_("Returned after a passed assessment once the year's cases are closed without objection (seed 002 art. 38)."))
    deposit_forfeit_share = models.DecimalField(
        _("share of the deposit forfeited"), max_digits=5, decimal_places=4, default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("When the re-review fails too (termination warning); 1 = all of it."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment template")
        verbose_name_plural = _("assessment templates")
        ordering = ["contract"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.deduction_method == self.Deduction.PER_POINT:
            if self.deduction_threshold is None:
                errors["deduction_threshold"] = gettext("Enter the score below which points are deducted.")
            if not self.deduction_per_point:
                errors["deduction_per_point"] = gettext("Enter the amount deducted per point.")
        if self.deduction_method != self.Deduction.NONE and self.deduction_installment_seq is None:
            errors["deduction_installment_seq"] = gettext("Name the installment the deduction is taken from.")
        if errors:
            raise ValidationError(errors)


class AssessmentItem(models.Model):
    """A scored item. Measured: points = weight − (full_at − KPI value) × points_per_unit when the
    value is below `full_at` (above it for a "lower is better" KPI), never below 0. Inspected:
    weight + Σ points of the period's daily supervision records, between 0 and the weight."""

    class Kind(models.TextChoices):
        MEASURED = "measured", _("Measured (indicator)")
        INSPECTED = "inspected", _("Inspected (daily supervision)")

    template = models.ForeignKey(AssessmentTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="items")
    seq = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("item"), max_length=100)
    weight = models.DecimalField(_("weight (points)"), **POINTS, validators=[MinValueValidator(Decimal("0.01"))])
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    kpi_key = models.CharField(_("indicator"), max_length=80, blank=True)
    full_at = models.DecimalField(_("full points at"), max_digits=12, decimal_places=4, null=True, blank=True,
                                  help_text=_("Indicator value at which the item earns its full weight."))
    points_per_unit = models.DecimalField(_("points lost per unit"), max_digits=8, decimal_places=4, null=True, blank=True,
                                          help_text=_("Per unit of the indicator short of the full-points value (e.g. per 1 %)."))
    lower_is_better = models.BooleanField(_("lower is better"), default=False)
    description = models.CharField(_("what is assessed"), max_length=300, blank=True)

    objects = TemplatePartQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment item")
        verbose_name_plural = _("assessment items")
        ordering = ["template", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["template", "seq"], name="assessment_item_seq_unique"),
            models.UniqueConstraint(fields=["template", "name"], name="assessment_item_name_unique"),
            models.CheckConstraint(condition=Q(kind__in=["measured", "inspected"]), name="assessment_item_kind_valid"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="assessment_item_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.MEASURED:
            problems = []
            if not self.kpi_key:
                problems.append(gettext("choose its indicator"))
            elif self.kpi_key not in dict(registry.choices()):
                problems.append(gettext("its indicator is unknown"))
            if self.full_at is None or self.points_per_unit is None:
                problems.append(gettext("enter its scoring rule (full points at, points lost per unit)"))
            if problems:
                raise ValidationError(gettext("Item “%(item)s” is measured: %(problems)s.") % {
                    "item": self.name, "problems": gettext(", ").join(problems)})

    @property
    def rule_display(self) -> str:
        """The scoring rule in words, for the template page."""
        if self.kind == self.Kind.INSPECTED:
            return gettext("Full %(weight)s points, plus or minus the points of the daily supervision records, "
                           "between 0 and %(weight)s") % {"weight": fmt_points(self.weight)}
        try:
            kpi = registry.get(self.kpi_key)
            label, unit = str(kpi.label), kpi.unit
        except KeyError:
            label, unit = gettext("unknown indicator"), ""
        values = {"kpi": label, "full": fmt_number(self.full_at), "unit": unit, "points": fmt_number(self.points_per_unit),
                  "weight": fmt_points(self.weight)}
        if self.lower_is_better:
            return gettext("%(kpi)s at most %(full)s%(unit)s: full %(weight)s points; each %(unit)s above: −%(points)s "
                           "points, at least 0") % values
        return gettext("%(kpi)s at least %(full)s%(unit)s: full %(weight)s points; each %(unit)s below: −%(points)s "
                       "points, at least 0") % values


class GradeBand(models.Model):
    """A grade from a minimum score: the grade of a total is the band with the highest minimum at
    or below it. `passed` decides the outcome; `deduction_share` is the share of the installment
    deducted at this grade (for templates deducting by grade)."""

    template = models.ForeignKey(AssessmentTemplate, verbose_name=_("template"), on_delete=models.CASCADE, related_name="grades")
    label = models.CharField(_("grade"), max_length=20)
    min_score = models.DecimalField(_("from score"), **POINTS, validators=[MinValueValidator(Decimal("0"))])
    passed = models.BooleanField(_("passed"), default=True)
    deduction_share = models.DecimalField(_("share of the installment deducted"), max_digits=5, decimal_places=4, null=True, blank=True,
                                          validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))])

    objects = TemplatePartQuerySet.as_manager()

    class Meta:
        verbose_name = _("grade band")
        verbose_name_plural = _("grade bands")
        ordering = ["template", "-min_score"]
        constraints = [
            models.UniqueConstraint(fields=["template", "min_score"], name="grade_band_min_unique"),
            models.UniqueConstraint(fields=["template", "label"], name="grade_band_label_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ≥ {fmt_points(self.min_score)}"


def _evidence_path(instance, filename: str) -> str:
    return f"supervision/{instance.on_date:%Y/%m}/{filename}"


class SupervisionRecord(models.Model):
    """日常考核: a county office's finding on one inspected item on one day. `points` is signed:
    negative deducts, positive awards back (e.g. after a rectification)."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(AssessmentItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="records")
    on_date = models.DateField(_("date"))
    points = models.DecimalField(_("points"), **POINTS, help_text=_("Negative: deducted; positive: awarded."))
    finding = models.TextField(_("finding"), max_length=2000)
    evidence = models.FileField(_("evidence file"), upload_to=_evidence_path, blank=True,
                                validators=[FileExtensionValidator(["pdf", "jpg", "jpeg", "png"])])
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily supervision record")
        verbose_name_plural = _("daily supervision records")
        ordering = ["-on_date", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(points=0), name="supervision_points_non_zero")]

    def __str__(self) -> str:
        return f"{self.on_date} {self.item.name} {fmt_signed(self.points)}"

    def clean(self) -> None:
        if self.item_id and self.contract_id:
            if self.item.template.contract_id != self.contract_id:
                raise ValidationError({"item": gettext("The item belongs to another contract's assessment.")})
            if self.item.kind != AssessmentItem.Kind.INSPECTED:
                raise ValidationError({"item": gettext("“%(item)s” is measured from an indicator, not from daily records.") % {
                    "item": self.item.name}})
        if self.area_id and self.contract_id:
            region_id = self.contract.program.region_id
            if self.area_id != region_id and self.area.parent_id != region_id:
                raise ValidationError({"area": gettext("%(area)s is not covered by this contract.") % {"area": self.area}})


class Assessment(models.Model):
    """One assessment of a period (annual, or the re-review of a failed one). A draft holds the
    computed scores; deciding it fixes the outcome and books its money (`services.assessment_decide`)."""

    class Kind(models.TextChoices):
        ANNUAL = "annual", _("Annual assessment")
        REREVIEW = "rereview", _("Re-review")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Computed, not decided")
        DECIDED = "decided", _("Decided")

    class Outcome(models.TextChoices):
        PASS = "pass", _("Passed")
        RECTIFY = "rectify", _("Failed: rectify and re-review")
        TERMINATION_WARNING = "termination_warning", _("Failed twice: termination warning")

    template = models.ForeignKey(AssessmentTemplate, verbose_name=_("template"), on_delete=models.PROTECT, related_name="assessments")
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ANNUAL)
    rereview_of = models.ForeignKey("self", verbose_name=_("re-review of"), on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="rereviews")
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    total = models.DecimalField(_("total score"), **POINTS)
    grade = models.CharField(_("grade"), max_length=20)
    passed = models.BooleanField(_("passed"))
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    assessed_on = models.DateField(_("decided on"), null=True, blank=True)
    rereview_due = models.DateField(_("re-review due"), null=True, blank=True)
    deduction_amount = models.DecimalField(_("premium deduction"), **MONEY, default=ZERO)
    deduction_basis = models.CharField(_("deduction basis"), max_length=300, blank=True)
    penalty = models.ForeignKey("finance.Penalty", verbose_name=_("deduction"), on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    deposit_entry = models.ForeignKey("finance.LedgerEntry", verbose_name=_("deposit entry"), on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+")
    finance_note = models.CharField(_("finance note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("computed by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("computed at"), auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-period_end", "-id"]
        permissions = [("decide_assessment", "Can decide an assessment (books its outcome)")]
        constraints = [
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")), name="assessment_period_ordered"),
            models.CheckConstraint(condition=Q(kind="annual", rereview_of__isnull=True) | Q(kind="rereview", rereview_of__isnull=False),
                                   name="assessment_rereview_has_original"),
            models.CheckConstraint(condition=Q(status="draft", outcome="") | Q(status="decided", assessed_on__isnull=False)
                                   & ~Q(outcome=""), name="assessment_decided_has_outcome"),
            models.CheckConstraint(condition=Q(deduction_amount__gte=0), name="assessment_deduction_non_negative"),
        ]

    def __str__(self) -> str:
        return gettext("%(contract)s %(kind)s %(start)s–%(end)s") % {
            "contract": self.contract.name, "kind": self.get_kind_display(), "start": self.period_start, "end": self.period_end}

    @property
    def finance_entries(self):
        """The ledger entries this assessment booked (deduction, set-off, deposit), by their reference."""
        # cycle: assessments.services imports this module
        from .services import references

        return LedgerEntry.objects.filter(contract_id=self.contract_id, reference__in=references(self)).order_by("id")


class ItemScore(models.Model):
    """One item's score in an assessment, with what it was computed from (kept as decided)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    item = models.ForeignKey(AssessmentItem, verbose_name=_("item"), on_delete=models.PROTECT, related_name="+")
    weight = models.DecimalField(_("weight (points)"), **POINTS)
    value = models.DecimalField(_("indicator value"), max_digits=14, decimal_places=4, null=True, blank=True)
    points = models.DecimalField(_("points"), **POINTS)
    basis = models.CharField(_("basis"), max_length=400)

    objects = ScorePartQuerySet.as_manager()

    class Meta:
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")
        ordering = ["assessment", "item__seq"]
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item"], name="item_score_once"),
            models.CheckConstraint(condition=Q(points__gte=0, points__lte=models.F("weight")), name="item_score_within_weight"),
        ]

    def __str__(self) -> str:
        return f"{self.item.name} {fmt_points(self.points)}"


class SupervisionWarning(models.Model):
    """约谈 (an interview of the insurer's head with a deadline to rectify, seeds 002 art. 40 /
    004 art. 34) or the termination warning after a second failure (art. 42 / 36)."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", _("Interview (约谈)")
        TERMINATION = "termination", _("Termination warning")

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="warnings")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    on_date = models.DateField(_("date"))
    reason = models.TextField(_("reason"), max_length=2000)
    rectify_by = models.DateField(_("rectify by"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervision warning")
        verbose_name_plural = _("supervision warnings")
        ordering = ["-on_date", "-id"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=["interview", "termination"]), name="warning_kind_valid")]

    def __str__(self) -> str:
        return f"{self.on_date} {self.get_kind_display()}"


# --- display helpers -------------------------------------------------------------------------


def fmt_number(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_points(value: Decimal | None) -> str:
    return fmt_number(value)


def fmt_signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + fmt_number(value)
