from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
