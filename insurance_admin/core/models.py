from django.db import models
from django.utils.translation import gettext_lazy as _


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
