"""The joint office's roster (联合办公人员) per contract and area, and each contract's staffing
commitments as data (DOMAIN.md §7): Tongliao ≥ 10 staff with a medical background and 1–3
full-time staff at each county window (seed 001 art. 8), Zhenping ≥ 3 joint-office staff (seed
004 art. 22), Beijing's named service team whose first contact is replaced only with two weeks'
notice (seed 000 art. 3). `selectors.staffing_shortfalls` compares the two on a date."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids


class TeamRole(models.TextChoices):
    LEADER = "leader", _("Team leader")
    DEPUTY = "deputy", _("Deputy team leader")
    UNDERWRITING_A = "underwriting_a", _("Underwriting post A")
    UNDERWRITING_B = "underwriting_b", _("Underwriting post B")
    CLAIMS_A = "claims_a", _("Claims post A")
    CLAIMS_B = "claims_b", _("Claims post B")
    WINDOW = "window", _("Window staff")
    MEMBER = "member", _("Team member")


class CommitmentQuerySet(models.QuerySet):
    def for_user(self, user) -> "CommitmentQuerySet":
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class StaffingCommitment(models.Model):
    """What a contract commits the insurer to staff, quoting the clause. Empty numbers: the
    contract sets no such figure."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                    related_name="staffing_commitment")
    min_total = models.PositiveSmallIntegerField(_("minimum staff"), null=True, blank=True)
    min_medical = models.PositiveSmallIntegerField(_("minimum staff with a medical background"), null=True, blank=True)
    min_fulltime_per_window = models.PositiveSmallIntegerField(
        _("minimum full-time staff per county window"), null=True, blank=True)
    max_fulltime_per_window = models.PositiveSmallIntegerField(
        _("maximum full-time staff per county window"), null=True, blank=True)
    team_roles = models.JSONField(_("named team roles"), default=list, blank=True,
                                  help_text=_("roles that must each be filled, e.g. leader, deputy, claims_a"))
    first_contact_role = models.CharField(_("first contact's role"), max_length=20, choices=TeamRole.choices, blank=True)
    notice_days = models.PositiveSmallIntegerField(
        _("notice for replacing the first contact (calendar days)"), null=True, blank=True)
    rule_text = models.TextField(_("contract clause"), blank=True)
    history = HistoricalRecords()

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("staffing commitment")
        verbose_name_plural = _("staffing commitments")
        ordering = ["contract__code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_fulltime_per_window__isnull=True) | Q(max_fulltime_per_window__isnull=True)
                | Q(min_fulltime_per_window__lte=F("max_fulltime_per_window")),
                name="staffing_window_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return str(self.contract)

    def clean(self) -> None:
        roles = self.team_roles if isinstance(self.team_roles, list) else None
        if roles is None or any(r not in TeamRole.values for r in roles):
            raise ValidationError({"team_roles": gettext("Name roles from: %(roles)s.") % {
                "roles": "、".join(str(label) for label in TeamRole.labels)}})


class StaffMemberQuerySet(models.QuerySet):
    def for_user(self, user) -> "StaffMemberQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)

    def active_on(self, day) -> "StaffMemberQuerySet":
        return self.filter(Q(active_from__lte=day), Q(active_to__isnull=True) | Q(active_to__gte=day))


class StaffMember(models.Model):
    """One person on the roster of a contract, at a county (window) or the contract's area."""

    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="staff_members")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="staff_members")
    name = models.CharField(_("name"), max_length=60)
    team_role = models.CharField(_("role in the team"), max_length=20, choices=TeamRole.choices, default=TeamRole.MEMBER)
    position = models.CharField(_("position"), max_length=100, blank=True, help_text=_("e.g. 支公司副总经理"))
    medical_background = models.BooleanField(_("medical background"), default=False)
    full_time = models.BooleanField(_("full-time"), default=True)
    at_window = models.BooleanField(_("at the service window"), default=False)
    phone = models.CharField(_("contact"), max_length=60, blank=True)
    active_from = models.DateField(_("on the roster from"))
    active_to = models.DateField(_("on the roster until"), null=True, blank=True)
    user = models.ForeignKey("accounts.User", verbose_name=_("user account"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="staff_roles",
                             help_text=_("the member's login, if any: complaints about them are not assigned to it"))
    replaces = models.ForeignKey("self", verbose_name=_("replaces"), on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    notice_given_on = models.DateField(_("replacement notified on"), null=True, blank=True,
                                       help_text=_("when the parties were told of this replacement"))
    history = HistoricalRecords()

    objects = StaffMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["contract__code", "area__code", "team_role", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(active_to__isnull=True) | Q(active_to__gte=F("active_from")),
                                   name="staffmember_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_team_role_display()}）"

    def clean(self) -> None:
        errors = {}
        if self.contract_id and self.area_id:
            region = self.contract.program.region
            if self.area_id != region.pk and self.area.parent_id != region.pk:
                errors["area"] = gettext("%(area)s is not covered by %(program)s.") % {
                    "area": self.area, "program": self.contract.program}
        if self.active_from and self.active_to and self.active_to < self.active_from:
            errors["active_to"] = gettext("The end must not lie before the start.")
        if self.replaces_id and self.replaces_id == self.pk:
            errors["replaces"] = gettext("A member cannot replace themselves.")
        if errors:
            raise ValidationError(errors)
