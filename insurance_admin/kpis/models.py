"""Pre-aggregated KPI rows (a rollup): the claim figures of the supervisor's dashboard per
contract, area and calendar month — and per day, so that any period (whole months from the
month rows, the days of a partial month from the day rows) is a sum of rows — rebuilt whole
per contract by `rollup.rollup_refresh` (beat, every few minutes) so the dashboard reads a few
thousand rows instead of a million claims. The page says as of when (`RollupRun.refreshed_at`);
a test proves the rows equal the live figures after a refresh. Derived data: never edited, only
replaced."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from insurance_admin.accounts.scoping import area_scope_ids

MONEY = {"max_digits": 16, "decimal_places": 2, "default": 0}


class RollupRunQuerySet(models.QuerySet):
    def for_user(self, user):
        from programs.models import Contract

        return self if area_scope_ids(user) is None else self.filter(contract__in=Contract.objects.for_user(user))


class RollupRun(models.Model):
    """When a contract's rollup rows were last rebuilt."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField(_("refreshed at"))
    rows = models.PositiveIntegerField(_("rows"), default=0)
    seconds = models.DecimalField(_("seconds taken"), max_digits=9, decimal_places=3, default=0)

    objects = RollupRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("KPI rollup run")
        verbose_name_plural = _("KPI rollup runs")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.contract_id} {self.refreshed_at:%Y-%m-%d %H:%M}"


class ClaimRollupQuerySet(models.QuerySet):
    def for_user(self, user):
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)


class ClaimRollup(models.Model):
    """One (contract, area, month, kind, key) cell (`day` empty), or one (contract, area, day,
    kind, key) cell (`day` set, `month` its month): every figure is in both grains, the month
    rows being the sums of the day rows; and every cell once more without an area, summed over
    the contract's region and its counties (what a region-wide page reads: a ninth of the rows).
    What the counters mean depends on `kind`:

    - received: count = claims registered in the month
    - approved: count = claims approved (approved or paid), amount = their approved amount
    - paid: count = claims paid, count2 = of which with a due date, count3 = of which paid on or
      before it, amount = amount paid
    - turnaround: key = working days from documents complete to payment, count = claims paid
    - liability: key = liability code, label = its name, count = claims paying it, amount
    - level / place / category / hospital: key = code (hospital: label = its name), count, amount
      of the claims approved in the month
    - difference: key = hospital code, label = name; count = instant settlements checked
      (discharged in the month), count2 = differing, amount = platform, amount2 = engine,
      amount3 = engine − platform, amount4 = |engine − platform|
    """

    contract = models.ForeignKey("programs.Contract", on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey("programs.Area", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             help_text=_("empty: the sums of the contract's region and its counties"))
    month = models.DateField(_("month"), help_text=_("first day of the calendar month"))
    day = models.DateField(_("day"), null=True, blank=True, help_text=_("empty on the month rows"))
    kind = models.CharField(_("kind"), max_length=16)
    key = models.CharField(_("key"), max_length=60, blank=True)
    label = models.CharField(_("label"), max_length=200, blank=True)
    count = models.BigIntegerField(default=0)
    count2 = models.BigIntegerField(default=0)
    count3 = models.BigIntegerField(default=0)
    amount = models.DecimalField(**MONEY)
    amount2 = models.DecimalField(**MONEY)
    amount3 = models.DecimalField(**MONEY)
    amount4 = models.DecimalField(**MONEY)

    objects = ClaimRollupQuerySet.as_manager()

    class Meta:
        verbose_name = _("KPI rollup row")
        verbose_name_plural = _("KPI rollup rows")
        default_permissions = ()
        indexes = [
            models.Index(fields=["contract", "kind", "month"], name="kpi_rollup_lookup", condition=models.Q(day__isnull=True)),
            models.Index(fields=["contract", "kind", "day"], name="kpi_rollup_day_lookup", condition=models.Q(day__isnull=False)),
        ]

    def __str__(self) -> str:
        when = f"{self.day:%Y-%m-%d}" if self.day else f"{self.month:%Y-%m}"
        return f"{self.contract_id}/{self.area_id}/{when}/{self.kind}/{self.key}"
