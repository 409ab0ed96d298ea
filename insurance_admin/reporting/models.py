"""Periodic reports (DOMAIN.md §6): what each contract requires (`ReportTerm`), the report
periods that follow from it with their due dates (`ReportDue`, the object of each report
deadline), and every generated report stored as a versioned run with its PDF and XLSX
(`ReportRun`). The content is the finance report (`finance.reports.report_document`); this app
only schedules, stores and serves it."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids


class Kind(models.TextChoices):
    """The same keys as `finance.reports.REPORT_KINDS` (the document function takes them)."""

    MONTHLY = "monthly", _("Monthly payment statement")
    QUARTERLY = "quarterly", _("Quarterly fund-usage analysis")
    SEMIANNUAL = "semiannual", _("Semi-annual operating report")
    ANNUAL = "annual", _("Annual summary")


KIND_MONTHS = {Kind.MONTHLY: 1, Kind.QUARTERLY: 3, Kind.SEMIANNUAL: 6, Kind.ANNUAL: 12}


class Basis(models.TextChoices):
    """The two bases a fund is read on (issue 19)."""

    CONTRACT_YEAR = "contract_year", _("Contract year")
    CASH = "cash", _("Cash (money moved within the period)")


class ContractScopedQuerySet(models.QuerySet):
    def for_user(self, user):
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class ReportTerm(models.Model):
    """One periodic report a contract requires, as data: the kind, and when it is due after the
    period ends (months after the period's last month; the day of that month, or its last day).
    Seeded for the seed contracts; an administrator adds them for new contracts."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="report_terms")
    kind = models.CharField(_("report"), max_length=16, choices=Kind.choices)
    due_months_after = models.PositiveSmallIntegerField(
        _("due in the month after the period"), default=1,
        help_text=_("1: in the month after the period ends (a quarterly report in the first month of the next quarter)."))
    due_day = models.PositiveSmallIntegerField(
        _("due on day"), null=True, blank=True, help_text=_("Day of that month; empty: its last day."))
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices, default=Basis.CONTRACT_YEAR)
    clause = models.CharField(_("contract clause"), max_length=300, blank=True)

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("report requirement")
        verbose_name_plural = _("report requirements")
        default_permissions = ("view", "add", "change")
        ordering = ["contract", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind"], name="report_term_one_per_contract_kind"),
            models.CheckConstraint(condition=Q(kind__in=["monthly", "quarterly", "semiannual", "annual"]),
                                   name="report_term_kind_valid"),
            models.CheckConstraint(condition=Q(due_day__isnull=True) | Q(due_day__gte=1, due_day__lte=31),
                                   name="report_term_due_day_valid"),
            models.CheckConstraint(condition=Q(due_months_after__lte=12), name="report_term_due_months_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_kind_display()}"


class ReportDue(models.Model):
    """One report period of a contract with its due date: the object its deadline follows.
    Derived from the terms by `services.report_dues_sync`; met by the period's first run."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="+")
    kind = models.CharField(_("report"), max_length=16, choices=Kind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    due_date = models.DateField(_("due date"))

    objects = ContractScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("report due")
        verbose_name_plural = _("reports due")
        default_permissions = ("view",)
        ordering = ["due_date", "contract", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "period_start"], name="report_due_one_per_period"),
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")), name="report_due_period_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_kind_display()} {period_display(self.kind, self.period_start)}"


class RunQuerySet(models.QuerySet):
    def for_user(self, user):
        """Runs of the books the user sees: the whole contract's run (booked to the region) for
        users of the region, a county book's run for users of that county too."""
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)


def _file_path(run: ReportRun, filename: str) -> str:
    return f"reports/{run.contract.code}/{run.kind}/{filename}"


class ReportRun(models.Model):
    """One generated report: the PDF and XLSX of one (kind, contract, book, period), version n.
    Re-running a period adds version n + 1 and keeps the older ones (marked superseded). Rows
    are written only by `services.generate_report`."""

    class Status(models.TextChoices):
        CURRENT = "current", _("Current version")
        SUPERSEDED = "superseded", _("Superseded by a newer version")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        USER = "user", _("User")

    kind = models.CharField(_("report"), max_length=16, choices=Kind.choices)
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="+")
    area = models.ForeignKey("programs.Area", verbose_name=_("book"), on_delete=models.PROTECT, related_name="+",
                             help_text=_("the contract's region for the whole contract, else a county book"))
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices, default=Basis.CONTRACT_YEAR)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    trigger = models.CharField(_("generated by"), max_length=16, choices=Trigger.choices)
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("generated by user"), on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="+")
    generated_at = models.DateTimeField(_("generated at"))
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.CURRENT)
    pdf = models.FileField(_("PDF"), upload_to=_file_path, max_length=300)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64)
    xlsx = models.FileField(_("XLSX"), upload_to=_file_path, max_length=300)
    xlsx_sha256 = models.CharField(_("XLSX SHA-256"), max_length=64)

    objects = RunQuerySet.as_manager()

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        default_permissions = ("view",)
        permissions = [("regenerate_reportrun", _("Can generate a new version of a periodic report"))]
        ordering = ["-period_start", "contract", "kind", "area", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "contract", "area", "period_start", "version"],
                                    name="report_run_one_per_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="report_run_version_positive"),
            models.CheckConstraint(condition=Q(period_start__lte=models.F("period_end")), name="report_run_period_ordered"),
            models.CheckConstraint(condition=Q(trigger="schedule") | Q(trigger="user", generated_by__isnull=False),
                                   name="report_run_user_has_a_user"),
            models.CheckConstraint(condition=Q(status__in=["current", "superseded"]), name="report_run_status_valid"),
        ]
        indexes = [models.Index(fields=["contract", "kind", "period_start"], name="report_run_period")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_display} v{self.version}"

    @property
    def period_display(self) -> str:
        return period_display(self.kind, self.period_start)

    @property
    def generated_by_display(self) -> str:
        if self.trigger == self.Trigger.SCHEDULE or self.generated_by is None:
            return str(self.Trigger.SCHEDULE.label)
        return self.generated_by.get_full_name() or self.generated_by.username


def period_label(kind: str, start: dt.date) -> str:
    """The period as typed on the finance report form: 2025-03, 2025-Q1, 2025-H1, 2025."""
    if kind == Kind.MONTHLY:
        return f"{start:%Y-%m}"
    if kind == Kind.QUARTERLY:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if kind == Kind.SEMIANNUAL:
        return f"{start.year}-H{1 if start.month <= 6 else 2}"
    return str(start.year)


def period_display(kind: str, start: dt.date) -> str:
    """The period in the user's language (2025年3月, 2025年第1季度, 2025年上半年, 2025年度)."""
    if kind == Kind.MONTHLY:
        return gettext("%(year)s-%(month)s") % {"year": start.year, "month": start.month}
    if kind == Kind.QUARTERLY:
        return gettext("%(year)s Q%(quarter)s") % {"year": start.year, "quarter": (start.month - 1) // 3 + 1}
    if kind == Kind.SEMIANNUAL:
        return gettext("%(year)s first half") % {"year": start.year} if start.month <= 6 else \
            gettext("%(year)s second half") % {"year": start.year}
    return gettext("Year %(year)s") % {"year": start.year}
