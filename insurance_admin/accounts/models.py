from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .scoping import area_scope_ids


class UserQuerySet(models.QuerySet):
    def for_user(self, user) -> "UserQuerySet":
        """Users an administrator may see and manage: bound to at least one area, every one of
        them within the administrator's own scope, and never superusers. A user bound to one more
        region than the administrator is out of reach (else a regional administrator could reset
        the password of staff who work everywhere)."""
        scope = area_scope_ids(user)
        if scope is None:
            return self
        through = User.areas.through.objects
        bound = through.values("user_id")
        beyond = through.exclude(area_id__in=scope).values("user_id")
        return self.filter(is_superuser=False, pk__in=bound).exclude(pk__in=beyond)


class StaffManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A staff member of the joint office, bound to the areas whose records they may see.

    Binding to a pooling region (e.g. 通辽市) grants all of its county-level areas.
    """

    areas = models.ManyToManyField(
        "programs.Area",
        verbose_name=_("areas"),
        blank=True,
        related_name="users",
        help_text=_("The user sees only people and records of these areas."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    history = HistoricalRecords(m2m_fields=[areas], excluded_fields=["last_login", "password"])

    objects = StaffManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
