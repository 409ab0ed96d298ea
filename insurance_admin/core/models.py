from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Heartbeat(models.Model):
    """Last sign of life of a background process (Celery worker, beat), one row per source."""

    source = models.CharField(_("source"), max_length=40, unique=True)
    hostname = models.CharField(_("host"), max_length=200)
    seen_at = models.DateTimeField(_("last seen"))
    beats = models.PositiveBigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["source"]

    def __str__(self) -> str:
        return f"{self.source}@{self.hostname}"


class AuditLog(models.Model):
    """No table: carries the permission to read the audit trail (simple-history rows)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_audit_log", _("Can read the audit trail"))]
        verbose_name = _("audit trail")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class CalendarYear(models.Model):
    """Whether a year's State Council holiday arrangement is on file. Deadlines falling in a
    year without it are computed on weekdays only and marked provisional."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    published = models.BooleanField(_("holiday arrangement on file"), default=False)
    source = models.CharField(_("source"), max_length=100, blank=True, help_text=_("e.g. chinesecalendar 1.11, or the notice number"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """An exception to the Monday–Friday rule: a statutory holiday on a weekday, or a make-up
    working day (调休) on a weekend. Ordinary days are not stored."""

    date = models.DateField(_("date"), primary_key=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=60, blank=True, help_text=_("e.g. 国庆节, 国庆节调休上班"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"
