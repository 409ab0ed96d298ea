"""Who saw full identities: one row each time a full ID number is shown (a person's page) or
handed out (an unmasked export). Imported from `programs.models` (same app label); written by
`programs.identity_access.identity_access_record`; read in the workbench audit trail, scoped
and masked."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insurance_admin.accounts.scoping import area_scope_ids


class IdentityAccessQuerySet(models.QuerySet):
    def for_user(self, user) -> "IdentityAccessQuerySet":
        """A person's row is seen by those who may see the person; an export's row by those who
        may see the import batch it came from (the same scoping as the pages themselves)."""
        if area_scope_ids(user) is None:
            return self
        # cycle: programs.models imports this module at its end
        from .models import ImportBatch, InsuredPerson

        return self.filter(Q(person__in=InsuredPerson.objects.for_user(user).values("pk"))
                           | Q(import_batch__in=ImportBatch.objects.for_user(user).values("pk")))


class IdentityAccess(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("insured person"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    import_batch = models.ForeignKey("programs.ImportBatch", verbose_name=_("enrollment list import"), null=True, blank=True,
                                     on_delete=models.CASCADE, related_name="+")
    where = models.CharField(_("where"), max_length=300, help_text=_("The page's address or the export's name."))
    rows = models.PositiveIntegerField(_("rows"), default=1)
    accessed_at = models.DateTimeField(_("accessed at"), default=timezone.now, db_index=True)

    objects = IdentityAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("full identity access")
        verbose_name_plural = _("full identity accesses")
        ordering = ["-accessed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(person__isnull=False) | Q(import_batch__isnull=False),
                                   name="identity_access_has_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.where} {self.accessed_at:%Y-%m-%d %H:%M}"
