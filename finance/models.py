"""Finance: premium schedules and receipts, guarantee deposits, the revolving fund, pre-payments,
penalties and hospital payables (DOMAIN.md §5), all booked in one append-only ledger.

Every money-holding row below keeps one cached balance column (`received`, `held`, `balance`,
`outstanding`, `settled`, `paid`). It is written only by `finance.services`, in the same
transaction and under the same row lock as the `LedgerEntry` that moves it, and it always
equals the sum of that row's entries: `manage.py finance_check` proves it. Ledger entries are
never changed or deleted (database triggers refuse it, migration `0002`); a correction is a
reversing entry linked to the original.

Note for later migrations: SQLite rebuilds a table on most ALTERs and drops its triggers;
`finance_check` reports missing triggers, re-create them with the SQL in
`finance/ledger_triggers.py`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids
from insurance_admin.core.money import MONEY
from programs.models import Area, HeadcountCategory

RATE = {"max_digits": 7, "decimal_places": 4}
ZERO = Decimal("0.00")

#: The events a premium due date may wait for, as stored in `PremiumSchedule.event_dates`.
PREMIUM_EVENTS = {
    "signing": _("Contract signed"),
    "fiscal_funds_arrived": _("Fiscal funds arrived"),
    "invoice_received": _("Invoice received"),
}
#: The headcount categories of the per-capita premiums (`programs.PremiumRate.headcount_category`).
HEADCOUNT_CATEGORIES = dict(HeadcountCategory.choices)


def _in_order(mapping: dict, known: dict) -> list[tuple]:
    """A JSON object's items in the order of `known`'s keys, others after by key: PostgreSQL's
    jsonb keeps keys sorted by length, SQLite in insertion order; a page must not depend on it."""
    rank = {key: i for i, key in enumerate(known)}
    return sorted(mapping.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))


def _share_display(part: Decimal, whole: Decimal) -> str:
    """part / whole as a percentage to 0.01 %, trailing zeros dropped ("10%", "2.5%")."""
    return f"{(part * 100 / whole).quantize(Decimal('0.01')).normalize():f}%"


def _money(verbose, **kwargs):
    return models.DecimalField(verbose, **MONEY, **kwargs)


def _check_area_in_contract(obj) -> None:
    """An area book must belong to the contract's region (the region itself or one of its counties)."""
    if obj.area_id and obj.contract_id:
        region_id = obj.contract.program.region_id
        if obj.area_id != region_id and obj.area.parent_id != region_id:
            raise ValidationError({"area": gettext("%(area)s is not covered by this contract.") % {"area": obj.area}})


class ContractScopedQuerySet(models.QuerySet):
    """Rows that belong to a contract (not to one area): visible to users of the contract's region."""

    def for_user(self, user):
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class AreaScopedQuerySet(models.QuerySet):
    """Rows booked to one area (county or the contract's pooling region)."""

    def for_user(self, user):
        ids = region_scope_ids(user)
        if ids is None:
            return self
        areas = area_scope_ids(user)
        return self.filter(contract__program__region_id__in=ids).filter(Q(area__isnull=True) | Q(area_id__in=areas))


class DepositKind(models.TextChoices):
    CONTRACT = "contract", _("Contract deposit")
    ANNUAL = "annual", _("Annual deposit")
    ASSESSMENT = "assessment", _("Assessment deposit")


class FinanceClearing(models.TextChoices):
    NONE = "none", _("No clearing")
    CYCLE = "cycle", _("Service-cycle clearing (surplus kept up to a limit, overspend shared)")
    YEARLY_USAGE = "yearly_usage", _("Yearly fund usage with rolling surplus")


class FinanceTerms(models.Model):
    """A contract's finance rules as data (DOMAIN.md §5): which funds exist and their rates.

    Seeded for the four seed contracts by migration; an administrator edits them for new years."""

    Clearing = FinanceClearing

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="finance_terms")
    unpaid_suspends_liability = models.BooleanField(
        _("unpaid premium suspends liability"), default=False,
        help_text=_("The insurer's liability is suspended while an installment is overdue."),
    )
    clearing = models.CharField(_("clearing"), max_length=16, choices=Clearing.choices, default=Clearing.NONE)
    retention_limit = models.DecimalField(_("surplus kept by the insurer at most"), **RATE, default=Decimal("0.03"))
    authority_loss_share = models.DecimalField(_("authority's share of an overspend"), **RATE, default=Decimal("0.4"))
    operating_cost_rate = models.DecimalField(_("operating cost rate"), **RATE, default=Decimal("0"))
    commitment_rate = models.DecimalField(_("committed fund usage"), **RATE, default=Decimal("0.90"))
    warning_threshold = models.DecimalField(_("rolling-surplus warning threshold"), **RATE, default=Decimal("0.30"))
    opening_rolling_surplus = _money(_("opening rolling surplus"), default=ZERO, help_text=_("Yuan, carried from the previous year."))
    last_year_premium = _money(_("last year's premium"), null=True, blank=True, help_text=_("Yuan; base of the revolving fund and of the 30 % warning."))
    revolving_share = models.DecimalField(
        _("revolving fund share of last year's income"), **RATE, null=True, blank=True, help_text=_("Taikang: 0.05; empty: no revolving fund.")
    )
    deposit_share = models.DecimalField(
        _("guarantee deposit withheld from the premium"), **RATE, null=True, blank=True,
        help_text=_("Share of the year's premium required as a guarantee deposit when the premium schedule is generated "
                    "(Zhenping: 0.10 contract deposit; Taikang: 0.10 annual deposit); empty: none."),
    )
    deposit_withheld = models.BooleanField(
        _("deposit withheld from the installments"), default=True,
        help_text=_("Checked: the authority keeps the deposit back from the latest installments (Zhenping). Unchecked: the "
                    "deposit is opened with the schedule for the amount required and held as it is paid in (Taikang)."),
    )
    deposit_kind = models.CharField(
        _("kind of the withheld deposit"), max_length=16, blank=True,
        choices=DepositKind.choices,
    )
    prepayment_amount = _money(_("cross-province pre-payment"), null=True, blank=True, help_text=_("Yuan; empty: none."))
    prepayment_working_days = models.PositiveSmallIntegerField(_("pre-payment due, working days after signing"), null=True, blank=True)
    # Obligations with a due date that the contract sets once (DOMAIN.md §6), tracked as deadlines
    # (finance.deadlines.terms_sync); the "done on" dates meet them.
    service_window_working_days = models.PositiveSmallIntegerField(
        _("service window set up, working days after signing"), null=True, blank=True, help_text=_("Taikang: 15; empty: no such clause."))
    service_window_ready_on = models.DateField(_("service window set up on"), null=True, blank=True)
    annual_audit_month = models.PositiveSmallIntegerField(
        _("annual audit due by the end of month"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Of the year after the insurance year (Tongliao: 4, end of April); empty: no audit clause."))
    annual_audit_done_on = models.DateField(_("annual audit done on"), null=True, blank=True)
    premium_notes = models.TextField(
        _("premium notes"), blank=True,
        help_text=_("Conditions of the premium shown with its schedule (e.g. how a headcount difference is paid)."))

    history = HistoricalRecords()
    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("finance terms")
        verbose_name_plural = _("finance terms")
        default_permissions = ("view", "change")
        permissions = [
            ("view_finance", _("Can read finance ledgers, positions and reports")),
            ("manage_finance", _("Can record premiums, deposits, funds and payables")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(clearing__in=FinanceClearing.values), name="finance_terms_clearing_valid"),
            models.CheckConstraint(
                condition=Q(deposit_share__isnull=True, deposit_kind="")
                | Q(deposit_share__gt=0, deposit_share__lte=1, deposit_kind__in=DepositKind.values),
                name="finance_terms_deposit_share_with_kind",
            ),
            models.CheckConstraint(
                condition=Q(retention_limit__gte=0, retention_limit__lte=1, authority_loss_share__gte=0, authority_loss_share__lte=1,
                            operating_cost_rate__gte=0, operating_cost_rate__lte=1, commitment_rate__gte=0, commitment_rate__lte=1,
                            warning_threshold__gte=0, warning_threshold__lte=1),
                name="finance_terms_rates_are_fractions",
            ),
            models.CheckConstraint(condition=Q(annual_audit_month__isnull=True) | Q(annual_audit_month__gte=1, annual_audit_month__lte=12),
                                   name="finance_terms_audit_month_valid"),
        ]

    def __str__(self) -> str:
        return str(self.contract)


#: How each event reads in an installment's description ("within 5 working days after the fiscal
#: funds arrive"); the signing reads "signing".
EVENT_PHRASES = {
    "signing": None,
    "fiscal_funds_arrived": "the fiscal funds arrive",
    "invoice_received": "the invoice is received",
}


class InstallmentRuleQuerySet(models.QuerySet):
    def for_user(self, user):
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(terms__contract__program__region_id__in=ids)


class InstallmentRule(models.Model):
    """One installment of a contract's premium (DOMAIN.md §5): a share of the total (or the
    remainder) and when it is due, quoting the contract. The rows of one contract are its
    `finance.calculations.PremiumPlan`; `premium_schedule_generate` reads them.

    Due rules: on a fixed date of the contract year (`due_month`, `due_day`); within a month
    (`due_month`, by its last day); calendar or working days after an event (`due_days`,
    `due_event`); or the later of several conditions (`due_parts`: a list of
    {"kind": ..., "days": n, "event": ...} / {"kind": "fixed_date", "month": m, "day": d} /
    {"kind": "within_month", "month": m}).
    """

    class DueKind(models.TextChoices):
        FIXED_DATE = "fixed_date", _("On a date of the contract year")
        WITHIN_MONTH = "within_month", _("Within a month of the contract year")
        DAYS_AFTER = "days_after", _("Calendar days after an event")
        WORKING_DAYS_AFTER = "working_days_after", _("Working days after an event")
        LATEST_OF = "latest_of", _("The later of several conditions")

    terms = models.ForeignKey(FinanceTerms, verbose_name=_("finance terms"), on_delete=models.CASCADE,
                              related_name="installment_rules")
    seq = models.PositiveSmallIntegerField(_("installment no."), validators=[MinValueValidator(1)])
    takes_remainder = models.BooleanField(
        _("takes the remainder"), default=False,
        help_text=_("This installment receives what the others leave (and absorbs the rounding)."))
    share = models.DecimalField(_("share of the premium"), **RATE, null=True, blank=True,
                                help_text=_("A fraction of the year's premium: 0.8 = 80 %."))
    due_kind = models.CharField(_("due rule"), max_length=20, choices=DueKind.choices)
    due_month = models.SmallIntegerField(_("month"), null=True, blank=True)
    due_day = models.SmallIntegerField(_("day"), null=True, blank=True)
    due_days = models.SmallIntegerField(_("days"), null=True, blank=True)
    due_event = models.CharField(_("counted from the event"), max_length=32, blank=True, choices=list(PREMIUM_EVENTS.items()))
    due_parts = models.JSONField(
        _("conditions (the later is due)"), default=list, blank=True,
        help_text=_('For "the later of several": e.g. [{"kind": "working_days_after", "days": 5, "event": '
                    '"fiscal_funds_arrived"}, {"kind": "working_days_after", "days": 10, "event": "invoice_received"}].'))
    note = models.CharField(_("condition in words"), max_length=200, blank=True,
                            help_text=_("Shown in the installment's description, e.g. after the November assessment."))
    clause = models.TextField(_("contract clause"), blank=True, help_text=_("The contract's wording of this installment."))

    history = HistoricalRecords()
    objects = InstallmentRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("premium installment rule")
        verbose_name_plural = _("premium installment rules")
        ordering = ["terms", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["terms", "seq"], name="installment_rule_seq_unique"),
            models.CheckConstraint(
                condition=(Q(takes_remainder=True, share__isnull=True) | Q(takes_remainder=False, share__gt=0, share__lte=1)),
                name="installment_rule_share_or_remainder",
            ),
            models.CheckConstraint(
                condition=(Q(due_days__isnull=True) | Q(due_days__gte=0))
                & (Q(due_month__isnull=True) | Q(due_month__gte=1, due_month__lte=12))
                & (Q(due_day__isnull=True) | Q(due_day__gte=1, due_day__lte=31)),
                name="installment_rule_due_values_valid",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Installment %(seq)s") % {"seq": self.seq}

    # --- validation -------------------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.takes_remainder:
            if self.share is not None:
                errors["share"] = [gettext("An installment taking the remainder has no share of its own.")]
        elif self.share is None:
            errors["share"] = [gettext("Enter the share of the premium, or check “takes the remainder”.")]
        elif not Decimal("0") < self.share <= Decimal("1"):
            errors["share"] = [gettext("The share of the premium must be more than 0 and at most 1 (100 %).")]
        if self.due_kind == self.DueKind.LATEST_OF:
            problem = due_parts_problem(self.due_parts)
            if problem:
                errors["due_parts"] = [problem]
        elif self.due_kind:
            errors.update(_due_errors(self.due_kind, {"month": self.due_month, "day": self.due_day,
                                                      "days": self.due_days, "event": self.due_event}))
        if errors:
            raise ValidationError(errors)

    # --- as a calculation rule ---------------------------------------------------------------

    def due_rule(self):
        from .calculations import premiums as calc

        if self.due_kind == self.DueKind.LATEST_OF:
            return calc.LatestOf(tuple(_due_rule(part["kind"], part) for part in self.due_parts))
        return _due_rule(self.due_kind, {"month": self.due_month, "day": self.due_day, "days": self.due_days,
                                         "event": self.due_event})

    def as_rule(self):
        from .calculations import premiums as calc

        return calc.InstallmentRule(calc.REMAINDER if self.takes_remainder else self.share, self.due_rule(), note=self.note)


#: the fields each simple due rule needs (a condition of "the later of several" uses the same keys)
DUE_FIELDS = {
    "fixed_date": ("month", "day"),
    "within_month": ("month",),
    "days_after": ("days", "event"),
    "working_days_after": ("days", "event"),
}
_FIELD_OF = {"month": "due_month", "day": "due_day", "days": "due_days", "event": "due_event"}


def _unknown_event(event: str) -> str:
    known = "、".join(str(label) for label in PREMIUM_EVENTS.values())
    return gettext("Unknown event “%(event)s”: a due rule counts from one of %(known)s.") % {"event": event, "known": known}


def _due_errors(kind: str, values: dict) -> dict[str, list[str]]:
    """Errors of one simple due rule, keyed by the model field (due_month, due_days...)."""
    errors: dict[str, list[str]] = {}
    needed = DUE_FIELDS.get(kind)
    if needed is None:
        return {"due_kind": [gettext("Unknown due rule “%(kind)s”.") % {"kind": kind}]}
    for key in needed:
        value = values.get(key)
        if key == "event":
            if not value:
                errors[_FIELD_OF[key]] = [gettext("Choose the event the days are counted from.")]
            elif value not in PREMIUM_EVENTS:
                errors[_FIELD_OF[key]] = [_unknown_event(value)]
        elif value is None or value == "":
            errors[_FIELD_OF[key]] = [_EMPTY[key]()]
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[_FIELD_OF[key]] = [_EMPTY[key]()]
        elif key == "days" and value < 0:
            errors["due_days"] = [gettext("The number of days cannot be negative.")]
        elif key == "month" and not 1 <= value <= 12:
            errors["due_month"] = [gettext("The month must be from 1 to 12.")]
    if kind == "fixed_date" and not errors:
        try:
            dt.date(2024, values["month"], values["day"])  # a leap year accepts every real month-day
        except ValueError:
            errors["due_day"] = [gettext("%(month)s-%(day)s is not a date.") % {"month": values["month"], "day": values["day"]}]
    return errors


_EMPTY = {
    "month": lambda: gettext("Enter the month (1 to 12)."),
    "day": lambda: gettext("Enter the day of the month."),
    "days": lambda: gettext("Enter the number of days."),
}


def due_parts_problem(parts) -> str | None:
    """Why a "later of several" list is not valid (None when it is), naming the condition."""
    if not isinstance(parts, list) or len(parts) < 2:
        return gettext("List at least two conditions for “the later of several”.")
    for n, part in enumerate(parts, start=1):
        if not isinstance(part, dict) or part.get("kind") not in DUE_FIELDS:
            return gettext("Condition %(n)s: name its kind (fixed_date, within_month, days_after or working_days_after).") % {"n": n}
        unknown_keys = set(part) - {"kind", *DUE_FIELDS[part["kind"]]}
        if unknown_keys:
            return gettext("Condition %(n)s: unexpected %(keys)s.") % {"n": n, "keys": ", ".join(sorted(unknown_keys))}
        errors = _due_errors(part["kind"], part)
        if errors:
            return gettext("Condition %(n)s: %(error)s") % {"n": n, "error": next(iter(errors.values()))[0]}
    return None


def _due_rule(kind: str, values: dict):
    from .calculations import premiums as calc

    if kind == "fixed_date":
        return calc.FixedDate(values["month"], values["day"])
    if kind == "within_month":
        return calc.WithinMonth(values["month"])
    event = values["event"]
    if kind == "days_after":
        return calc.CalendarDaysAfter(values["days"], event, EVENT_PHRASES.get(event))
    if kind == "working_days_after":
        return calc.WorkingDaysAfter(values["days"], event, EVENT_PHRASES.get(event))
    raise ValueError(f"unknown due rule {kind!r}")


def installment_rules_problem(rules) -> str | None:
    """Why a contract's installment rules do not make a schedule (None when they do): at most
    one takes the remainder; the fixed shares sum to exactly 1 (100 %) without one, to less
    than 1 with one."""
    rules = list(rules)
    if not rules:
        return gettext("Enter at least one premium installment.")
    remainders = [r for r in rules if r.takes_remainder]
    if len(remainders) > 1:
        return gettext("Only one installment can take the remainder.")
    total = sum((r.share for r in rules if not r.takes_remainder and r.share is not None), Decimal("0"))
    shown = f"{(total * 100).normalize():f}%"
    if remainders and total >= 1:
        return gettext("The shares of the premium add up to %(sum)s: nothing is left for the installment taking the remainder.") % {
            "sum": shown}
    if not remainders and total != 1:
        return gettext("The shares of the premium add up to %(sum)s, not 100 %%: correct them, or let one installment take the remainder.") % {
            "sum": shown}
    return None


class PremiumSchedule(models.Model):
    """The premium a contract's authority owes, fixed when the schedule is generated.

    `headcounts` is {area code or "": {category: count}}; the premium of each area book is its
    headcount × the per-capita premium. Later headcount changes never edit this row: they add
    a `HeadcountChange` and a supplementary installment."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="premium_schedule")
    per_capita = models.JSONField(_("per-capita premium by category"), help_text=_('{"active": "460.00", …}'))
    headcounts = models.JSONField(_("headcounts by area"), help_text=_('{"411324": {"active": 3000, "retired": 1200}}'))
    total = _money(_("total premium"))
    event_dates = models.JSONField(_("recorded events"), default=dict, blank=True, help_text=_("e.g. signing, fiscal funds arrived"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()
    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("premium schedule")
        verbose_name_plural = _("premium schedules")
        constraints = [models.CheckConstraint(condition=Q(total__gte=0), name="premium_schedule_total_non_negative")]

    def __str__(self) -> str:
        return f"{self.contract.code}: {self.total}"

    def headcount_lines(self) -> list[str]:
        """The headcounts the premium was computed on, one line per area book, in the user's
        language: the area's name (the contract's region for a region-wide count, stored under
        ""), then each category's label and count ("通辽市：参保居民 2,217,285")."""
        names = dict(Area.objects.filter(code__in=[c for c in self.headcounts if c]).values_list("code", "name"))
        lines = []
        for code, counts in sorted(self.headcounts.items()):  # the region-wide count ("") first
            area = names.get(code, code) if code else self.contract.program.region.name
            parts = [f"{HEADCOUNT_CATEGORIES.get(cat, cat)} {n:,}" for cat, n in _in_order(counts, HEADCOUNT_CATEGORIES)]
            lines.append(gettext("%(area)s: %(counts)s") % {"area": area, "counts": gettext(", ").join(parts)})
        return lines

    def event_lines(self) -> list[str]:
        """The recorded events with their dates, in the user's language (keys stay in storage)."""
        return [f"{PREMIUM_EVENTS.get(key, key)} {on}" for key, on in _in_order(self.event_dates, PREMIUM_EVENTS)]


class HeadcountChange(models.Model):
    """A recomputation of the premium after a headcount change (provisional → final, new
    enrollees, retirements). Append-only; `difference` became a supplementary installment."""

    schedule = models.ForeignKey(PremiumSchedule, on_delete=models.PROTECT, related_name="headcount_changes")
    contract = models.ForeignKey("programs.Contract", on_delete=models.PROTECT, related_name="+")
    headcounts_before = models.JSONField(_("headcounts before"))
    headcounts_after = models.JSONField(_("headcounts after"))
    difference = _money(_("premium difference"), help_text=_("Yuan; positive: owed by the authority, negative: to refund."))
    effective_on = models.DateField(_("effective on"))
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("headcount change")
        verbose_name_plural = _("headcount changes")
        ordering = ["schedule", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.effective_on}: {self.difference}"


class InstallmentKind(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled installment")
    SUPPLEMENTARY = "supplementary", _("Supplementary premium")
    REFUND = "refund", _("Premium refund")


class PremiumInstallment(models.Model):
    """One premium item: a scheduled installment, a supplementary premium, or a refund.

    `withheld` is the part of it the authority keeps back as the contract deposit (Zhenping); the
    cash due is `amount - withheld`. `received` = Σ receipt entries, never above the cash due
    (row lock in the service + the check constraint below)."""

    Kind = InstallmentKind

    schedule = models.ForeignKey(PremiumSchedule, on_delete=models.PROTECT, related_name="installments")
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="premium_installments")
    seq = models.PositiveSmallIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.SCHEDULED)
    share = models.DecimalField(_("share of the total"), max_digits=12, decimal_places=10, null=True, blank=True)
    amount = _money(_("amount"))
    withheld = _money(_("withheld as deposit"), default=ZERO)
    due_date = models.DateField(_("due date"), null=True, blank=True, help_text=_("Empty until the event it depends on is recorded."))
    description = models.CharField(_("terms"), max_length=400)
    headcount_change = models.OneToOneField(HeadcountChange, on_delete=models.PROTECT, null=True, blank=True, related_name="installment")
    received = _money(_("received"), default=ZERO, help_text=_("Yuan; Σ of its receipt entries."))

    history = HistoricalRecords()
    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("premium installment")
        verbose_name_plural = _("premium installments")
        ordering = ["contract", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "seq"], name="installment_seq_unique"),
            models.CheckConstraint(condition=Q(kind__in=InstallmentKind.values), name="installment_kind_valid"),
            models.CheckConstraint(condition=Q(amount__gte=0, withheld__gte=0, withheld__lte=F("amount")), name="installment_amounts_valid"),
            # never over-credited, never negative
            models.CheckConstraint(condition=Q(received__gte=0, received__lte=F("amount") - F("withheld")), name="installment_received_within_due"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} #{self.seq} {self.amount}"

    @property
    def cash_due(self) -> Decimal:
        return self.amount - self.withheld

    @property
    def outstanding(self) -> Decimal:
        return self.cash_due - self.received

    def is_overdue(self, on_date) -> bool:
        return self.due_date is not None and self.due_date < on_date and self.outstanding > 0

    @property
    def terms_display(self) -> str:
        """The installment's terms for the page, in the user's language (`description` keeps
        the schedule function's own wording for the audit trail)."""
        if self.kind != self.Kind.SCHEDULED:
            text = self.get_kind_display()
        elif self.share is not None:
            percent = f"{(self.share * 100).quantize(Decimal('0.01')).normalize():f}%"
            text = gettext("%(share)s of the total premium") % {"share": percent}
        else:
            text = gettext("Scheduled installment")
        if self.withheld:
            annual = FinanceTerms.objects.filter(contract_id=self.contract_id, deposit_kind="annual").exists()
            words = gettext("; %(amount)s withheld as the annual deposit") if annual \
                else gettext("; %(amount)s withheld as the contract deposit")
            text += words % {"amount": f"{self.withheld:,.2f}"}
        if self.due_date is None:
            text += gettext("; due date set when the event is recorded")
        return text


class GuaranteeDeposit(models.Model):
    """保证金: withheld from the premium or paid in, held, returned or forfeited in part.
    `held` = Σ entries (withheld/paid in positive, returned/forfeited negative)."""

    Kind = DepositKind

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="deposits")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    required = _money(_("required amount"))
    basis = models.CharField(_("basis"), max_length=300)
    cases_closed_on = models.DateField(_("cases closed on"), null=True, blank=True)
    objection = models.BooleanField(_("objection raised"), default=False)
    return_due = models.DateField(_("return due"), null=True, blank=True, help_text=_("30 days after the cases close without objection."))
    held = _money(_("held"), default=ZERO, help_text=_("Yuan; Σ of its entries."))

    history = HistoricalRecords()
    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("guarantee deposit")
        verbose_name_plural = _("guarantee deposits")
        ordering = ["contract", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind"], name="deposit_one_per_kind"),
            models.CheckConstraint(condition=Q(kind__in=DepositKind.values), name="deposit_kind_valid"),
            models.CheckConstraint(condition=Q(required__gte=0, held__gte=0), name="deposit_amounts_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.get_kind_display()}"

    @property
    def basis_display(self) -> str:
        """The basis in the user's language. A deposit the finance terms require with the
        schedule and not withheld (Taikang's annual deposit) is described from the schedule's
        total. A contract deposit withheld from the premium
        (Zhenping) is described from the installments it was taken from (`basis` keeps the
        schedule function's own wording for the audit trail); a basis typed in is shown as typed."""
        withheld = list(PremiumInstallment.objects.filter(contract_id=self.contract_id, withheld__gt=0).order_by("seq"))
        schedule = PremiumSchedule.objects.filter(contract_id=self.contract_id).first()
        terms = FinanceTerms.objects.filter(contract_id=self.contract_id).first()
        withheld_kind = (terms.deposit_kind or self.Kind.CONTRACT) if terms is not None and terms.deposit_share else self.Kind.CONTRACT
        if terms is not None and terms.deposit_share and not terms.deposit_withheld and self.kind == withheld_kind \
                and schedule is not None and schedule.total:
            text = gettext("%(share)s of the year's fund %(total)s = %(amount)s") % {
                "share": _share_display(self.required, schedule.total), "total": f"{schedule.total:,.2f}",
                "amount": f"{self.required:,.2f}"}
            if self.kind == self.Kind.ANNUAL:
                text += gettext("; returned within 30 days after the year's cases are closed without objection")
            return text
        if self.kind != withheld_kind or not withheld or schedule is None or not schedule.total \
                or sum(i.withheld for i in withheld) != self.required:
            return self.basis
        if self.kind == self.Kind.ANNUAL:
            text = gettext(
                "%(share)s of the year's fund %(total)s = %(amount)s, withheld from installment %(seqs)s; "
                "returned within 30 days after the year's cases are closed without objection")
        else:
            text = gettext(
                "%(share)s of the total premium %(total)s = %(amount)s, withheld from installment %(seqs)s; "
                "released according to the annual assessment")
        return text % {"share": _share_display(self.required, schedule.total), "total": f"{schedule.total:,.2f}",
             "amount": f"{self.required:,.2f}", "seqs": gettext(", ").join(str(i.seq) for i in withheld)}


class RevolvingFund(models.Model):
    """周转金 (Taikang): paid into the authority's account by 01-10, debited by manual-claim
    payments and out-of-area advances, topped up monthly. `balance` = Σ entries."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="revolving_fund")
    last_year_income = _money(_("last year's income"))
    opening_amount = _money(_("opening amount"))
    due_date = models.DateField(_("due date"))
    basis = models.CharField(_("basis"), max_length=300)
    balance = _money(_("balance"), default=ZERO, help_text=_("Yuan; Σ of its entries; may go negative when overdrawn."))

    history = HistoricalRecords()
    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("revolving fund")
        verbose_name_plural = _("revolving funds")
        constraints = [models.CheckConstraint(condition=Q(opening_amount__gte=0, last_year_income__gte=0), name="revolving_amounts_non_negative")]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.opening_amount}"

    @property
    def basis_display(self) -> str:
        """How the opening amount was computed, in the user's language (`basis` keeps the
        calculation's own wording)."""
        if not self.last_year_income:
            return self.basis
        return gettext("%(share)s × last year's income %(income)s = %(amount)s, paid by %(due)s") % {
            "share": _share_display(self.opening_amount, self.last_year_income), "income": f"{self.last_year_income:,.2f}",
            "amount": f"{self.opening_amount:,.2f}", "due": self.due_date.isoformat()}


class RevolvingTopUp(models.Model):
    """The monthly top-up computed at month end: opening amount − balance (never negative)."""

    fund = models.ForeignKey(RevolvingFund, on_delete=models.PROTECT, related_name="topups")
    contract = models.ForeignKey("programs.Contract", on_delete=models.PROTECT, related_name="+")
    month = models.DateField(_("month"), help_text=_("First day of the month."))
    balance_at_month_end = _money(_("balance at month end"))
    amount = _money(_("top-up amount"))
    computed_at = models.DateTimeField(_("computed at"), auto_now_add=True)

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("revolving-fund top-up")
        verbose_name_plural = _("revolving-fund top-ups")
        ordering = ["fund", "month"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "month"], name="topup_one_per_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="topup_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.fund.contract.code} {self.month:%Y-%m}: {self.amount}"


class Prepayment(models.Model):
    """异地就医直接结算预付金 (Zhenping): paid within 60 working days of signing, returned when
    the service ends. `outstanding` = Σ entries (paid positive, returned negative)."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="prepayment")
    amount = _money(_("amount"))
    due_date = models.DateField(_("payment due"))
    due_date_provisional = models.BooleanField(_("due date provisional"), default=False, help_text=_("Counted on weekdays for a year without a holiday arrangement on file."))
    return_due = models.DateField(_("return due"))
    basis = models.CharField(_("basis"), max_length=300)
    outstanding = _money(_("outstanding"), default=ZERO, help_text=_("Yuan; Σ of its entries."))

    history = HistoricalRecords()
    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("pre-payment")
        verbose_name_plural = _("pre-payments")
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0, outstanding__gte=0, outstanding__lte=F("amount")), name="prepayment_within_amount")]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.amount}"

    @property
    def basis_display(self) -> str:
        """When it is due and returned, in the user's language (`basis` keeps the service's wording)."""
        terms = FinanceTerms.objects.filter(contract_id=self.contract_id).first()
        signed_on = self.contract.signed_on
        if terms is None or terms.prepayment_working_days is None or signed_on is None:
            return self.basis
        return gettext("within %(days)s working days after signing (%(signed)s); returned at the end of the service, %(returned)s") % {
            "days": terms.prepayment_working_days, "signed": signed_on.isoformat(), "returned": self.return_due.isoformat()}


class PenaltyKind(models.TextChoices):
    EARLY_TERMINATION = "early_termination", _("Early termination")
    CONFIDENTIALITY = "confidentiality", _("Confidentiality breach")
    ASSESSMENT_DEDUCTION = "assessment_deduction", _("Assessment deduction")
    RECOVERY = "recovery", _("Recovery of non-compliant payments")


class Penalty(models.Model):
    """A recorded obligation: liquidated damages, an assessment deduction or a recovery of
    non-compliant payments. `settled` = Σ settlement entries, at most the amount."""

    Kind = PenaltyKind

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="penalties")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    base = _money(_("base"), null=True, blank=True)
    rate = models.DecimalField(_("rate"), **RATE, null=True, blank=True)
    amount = _money(_("amount"))
    imposed_on = models.DateField(_("imposed on"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    settled = _money(_("settled"), default=ZERO, help_text=_("Yuan; Σ of its entries."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("penalty")
        verbose_name_plural = _("penalties")
        ordering = ["contract", "imposed_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=PenaltyKind.values), name="penalty_kind_valid"),
            models.CheckConstraint(condition=Q(amount__gt=0, settled__gte=0, settled__lte=F("amount")), name="penalty_settled_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.code} {self.get_kind_display()} {self.amount}"

    def clean(self) -> None:
        _check_area_in_contract(self)


class HospitalPayable(models.Model):
    """What the insurer owes a hospital for one month's instant settlements in one area.
    `reference` is the idempotency key (the settlement batch); `paid` = Σ payment entries."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="hospital_payables")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    fixmedins_code = models.CharField(_("hospital code"), max_length=30)
    fixmedins_name = models.CharField(_("hospital"), max_length=200)
    period = models.DateField(_("month"), help_text=_("First day of the settled month."))
    amount = _money(_("amount payable"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=80, unique=True)
    paid = _money(_("paid"), default=ZERO, help_text=_("Yuan; Σ of its payment entries."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    history = HistoricalRecords()
    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("hospital payable")
        verbose_name_plural = _("hospital payables")
        ordering = ["contract", "period", "area", "fixmedins_code"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0, paid__gte=0, paid__lte=F("amount")), name="hospital_payable_paid_within_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.fixmedins_name} {self.period:%Y-%m}: {self.amount}"

    def clean(self) -> None:
        _check_area_in_contract(self)

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


class ClaimsBook(models.Model):
    """The claims book of a contract whose terms name no revolving fund: what its claim
    payments took out of the contract's fund. `paid` = Σ entries (payments positive, their
    reversals negative). Opened by the first payment."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="claims_book")
    paid = _money(_("paid"), default=ZERO, help_text=_("Yuan; Σ of its entries."))

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("claims book")
        verbose_name_plural = _("claims books")

    def __str__(self) -> str:
        return f"{self.contract.code}: {self.paid}"


#: the target column of each ledger book
LEDGER_TARGETS = {
    "premium": "installment",
    "deposit": "deposit",
    "revolving": "revolving_fund",
    "prepayment": "prepayment",
    "penalty": "penalty",
    "hospital": "hospital_payable",
    "claims": "claims_book",
}


def _one_target_per_book() -> Q:
    return Q.create(
        [
            Q(book=book, **{f"{col}__isnull": False}, **{f"{other}__isnull": True for other in LEDGER_TARGETS.values() if other != col})
            for book, col in LEDGER_TARGETS.items()
        ],
        connector=Q.OR,
    )


class LedgerBook(models.TextChoices):
    PREMIUM = "premium", _("Premium receipts")
    DEPOSIT = "deposit", _("Guarantee deposits")
    REVOLVING = "revolving", _("Revolving fund")
    PREPAYMENT = "prepayment", _("Pre-payment")
    PENALTY = "penalty", _("Penalties")
    HOSPITAL = "hospital", _("Hospital payments")
    CLAIMS = "claims", _("Claim payments")


class LedgerKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    WITHHELD = "withheld", _("Withheld")
    PAID_IN = "paid_in", _("Paid in")
    RETURNED = "returned", _("Returned")
    FORFEITED = "forfeited", _("Forfeited")
    OPENING = "opening", _("Opening deposit")
    DEBIT = "debit", _("Debit")
    TOPUP = "topup", _("Top-up")
    SETTLED = "settled", _("Settled")
    PAYMENT = "payment", _("Payment")
    REVERSAL = "reversal", _("Reversal")


class LedgerEntry(models.Model):
    """One money movement, never changed: UPDATE and DELETE are refused by database triggers.
    A correction is a new entry with the opposite amount whose `reverses` points at the original
    (at most one reversal per entry). Exactly one target row per entry, matching its book."""

    Book = LedgerBook
    Kind = LedgerKind

    TARGETS = LEDGER_TARGETS

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="ledger_entries")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    book = models.CharField(_("book"), max_length=16, choices=Book.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    amount = _money(_("amount"), help_text=_("Yuan, signed: the change of the target's balance."))
    booked_on = models.DateField(_("booked on"))
    reference = models.CharField(_("reference"), max_length=80, blank=True)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    reverses = models.OneToOneField("self", verbose_name=_("reverses"), on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by")
    installment = models.ForeignKey(PremiumInstallment, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    deposit = models.ForeignKey(GuaranteeDeposit, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    revolving_fund = models.ForeignKey(RevolvingFund, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    prepayment = models.ForeignKey(Prepayment, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    penalty = models.ForeignKey(Penalty, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    hospital_payable = models.ForeignKey(HospitalPayable, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    claims_book = models.ForeignKey(ClaimsBook, on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text=_("The claim a revolving-fund debit paid."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")

    objects = AreaScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["booked_on", "id"]
        indexes = [models.Index(fields=["contract", "book", "booked_on"], name="ledger_contract_book_date")]
        constraints = [
            models.CheckConstraint(condition=Q(book__in=LedgerBook.values), name="ledger_book_valid"),
            models.CheckConstraint(condition=Q(kind__in=LedgerKind.values), name="ledger_kind_valid"),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_non_zero"),
            # exactly the target of its book is set
            models.CheckConstraint(
                condition=_one_target_per_book(),
                name="ledger_one_target_per_book",
            ),
            models.CheckConstraint(condition=Q(reverses__isnull=True) | Q(kind="reversal"), name="ledger_reversal_links_original"),
            models.UniqueConstraint(fields=["book", "reference"], condition=~Q(reference=""), name="ledger_reference_unique_per_book"),
        ]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.get_book_display()} {self.get_kind_display()} {self.amount}"

    @property
    def target(self):
        return getattr(self, self.TARGETS[self.book])

    @property
    def memo_display(self) -> str:
        """The memo in the user's language where the system wrote it (a monthly top-up, a
        deposit withheld from the premium); a memo typed by a person is shown as typed. The
        stored memo is never changed (the ledger is append-only)."""
        if self.kind == self.Kind.TOPUP and self.reference.startswith("topup-"):
            return gettext("Top-up for %(month)s") % {"month": "-".join(self.reference.rsplit("-", 2)[-2:])}
        if self.kind == self.Kind.WITHHELD and self.deposit_id is not None and self.memo == self.deposit.basis:
            return self.deposit.basis_display
        return self.memo


class SimulationStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("simulation", "Queued")
    RUNNING = "running", pgettext_lazy("simulation", "Running")
    DONE = "done", pgettext_lazy("simulation", "Done")
    FAILED = "failed", pgettext_lazy("simulation", "Failed")


class SimulationTarget(models.TextChoices):
    SURPLUS_RATE = "surplus_rate", _("Target surplus rate")
    LOSS_RATIO = "loss_ratio", _("Target loss ratio")


class SimulationRunQuerySet(models.QuerySet):
    def for_user(self, user):
        """Runs of contracts whose whole region the user sees: a run reads every county's
        settlements, so a user bound to one county does not see it (as the region's books)."""
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class SimulationRun(models.Model):
    """One renewal simulation (测算, issue 22): a contract year's stored settlements run under a
    scenario (a plan document and per-capita premiums) by a Celery job
    (`finance.simulation_runs`). Progress is written per chunk; the result (the comparison,
    `SimulationResult.as_dict()` with both histograms) is written once, with `done`."""

    Status = SimulationStatus
    Target = SimulationTarget

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="simulation_runs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=16, choices=SimulationStatus.choices, default=SimulationStatus.QUEUED)
    progress_done = models.PositiveIntegerField(_("records processed"), default=0)
    progress_total = models.PositiveIntegerField(_("records in total"), default=0)
    plan = models.JSONField(_("scenario benefit plan"))
    per_capita = models.JSONField(_("scenario per-capita premium by category"), default=dict, blank=True)
    changes = models.JSONField(_("figures changed"), default=list, blank=True,
                               help_text=_("[label, before, after] of every figure the scenario changed"))
    target_kind = models.CharField(_("target"), max_length=16, choices=SimulationTarget.choices,
                                   default=SimulationTarget.SURPLUS_RATE)
    target = models.DecimalField(_("target rate"), **RATE)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = SimulationRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("simulation run")
        verbose_name_plural = _("simulation runs")
        ordering = ["-created_at", "-pk"]
        default_permissions = ("view",)
        permissions = [("run_simulation", _("Can run renewal simulations (测算)"))]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SimulationStatus.values), name="simulation_run_status_valid"),
            models.CheckConstraint(condition=Q(target_kind__in=SimulationTarget.values), name="simulation_run_target_kind_valid"),
            models.CheckConstraint(condition=Q(target__gte=0, target__lte=1), name="simulation_run_target_is_fraction"),
            models.CheckConstraint(condition=Q(status="done", result__isnull=False) | ~Q(status="done"),
                                   name="simulation_run_done_has_result"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == SimulationStatus.DONE:
            return 100
        return int(self.progress_done * 100 / self.progress_total) if self.progress_total else 0

    @property
    def finished(self) -> bool:
        return self.status in (SimulationStatus.DONE, SimulationStatus.FAILED)

    @property
    def target_display(self) -> str:
        """"目标结余率 3%": the target as the contract writes it."""
        from insurance_admin.core.money import fmt_share

        return f"{self.get_target_kind_display()} {fmt_share(self.target)}"
