"""Complaints (投诉) received at the window, by phone or from the authority, on an answer clock
in working days: the contract's own (seed 000: three working days) or else the default a
supervisor keeps per complexity (the regulator's 15 days for simple, 30 for complex ones).
Every state change goes through `complaints.services.complaint_transition` (forward) or
`complaint_reopen` (a supervisor, with a reason, on a new clock) and leaves a
ComplaintStatusChange row; the answer deadline is a core Deadline of kind complaint_answer."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids

DAYS = [MinValueValidator(1), MaxValueValidator(365)]


class TermsQuerySet(models.QuerySet):
    def for_user(self, user) -> "TermsQuerySet":
        ids = region_scope_ids(user)
        return self if ids is None else self.filter(contract__program__region_id__in=ids)


class ComplaintTerms(models.Model):
    """A contract's complaint clock as data: the contract's own answer time (empty when the
    contract sets none) and the defaults for simple and complex complaints."""

    contract = models.OneToOneField("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE,
                                    related_name="complaint_terms")
    answer_days = models.PositiveSmallIntegerField(
        _("answer within (working days, contract)"), null=True, blank=True, validators=DAYS,
        help_text=_("empty: the contract sets none and the defaults below apply"))
    simple_days = models.PositiveSmallIntegerField(_("default for simple complaints (working days)"), default=15,
                                                   validators=DAYS)
    complex_days = models.PositiveSmallIntegerField(_("default for complex complaints (working days)"), default=30,
                                                    validators=DAYS)
    rule_text = models.TextField(_("contract clause"), blank=True)
    history = HistoricalRecords()

    objects = TermsQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint terms")
        verbose_name_plural = _("complaint terms")
        ordering = ["contract__code"]
        # supervisors keep the defaults (simple, complex); the contract's own clock stays the administrator's
        permissions = [("set_complaint_defaults", _("Can set the default complaint answer times"))]

    def __str__(self) -> str:
        return str(self.contract)


class ComplaintQuerySet(models.QuerySet):
    def for_user(self, user) -> "ComplaintQuerySet":
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(area_id__in=ids)


class Complaint(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        INVESTIGATING = "investigating", _("Investigating")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        WINDOW = "window", _("At the window")
        PHONE = "phone", _("By phone")
        AUTHORITY = "authority", _("From the authority")

    class Category(models.TextChoices):
        SERVICE_QUALITY = "service_quality", _("Service quality")
        CLAIM_TIME = "claim_time", _("Claim processing time")
        CLAIM_AMOUNT = "claim_amount", _("Claim amount")
        STAFF_CONDUCT = "staff_conduct", _("Staff conduct")
        ENROLLMENT = "enrollment", _("Enrollment")
        OTHER = "other", _("Other")

    class Complexity(models.TextChoices):
        SIMPLE = "simple", _("Simple")
        COMPLEX = "complex", _("Complex")

    complaint_no = models.CharField(_("complaint number"), max_length=30, unique=True)
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT,
                                 related_name="complaints")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="complaints")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    category = models.CharField(_("complaint category"), max_length=20, choices=Category.choices)
    complexity = models.CharField(_("complexity"), max_length=8, choices=Complexity.choices, default=Complexity.SIMPLE)
    # who complains: a person of the registry, or a name and phone typed at the window
    complainant_person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("complainant (insured person)"),
                                           on_delete=models.PROTECT, null=True, blank=True, related_name="complaints_made")
    complainant_name = models.CharField(_("complainant"), max_length=60, blank=True)
    complainant_phone = models.CharField(_("complainant's phone"), max_length=20, blank=True)
    # what about
    about_claim = models.ForeignKey("claims.Claim", verbose_name=_("about the claim"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="complaints")
    about_person = models.ForeignKey("programs.InsuredPerson", verbose_name=_("about the insured person"),
                                     on_delete=models.PROTECT, null=True, blank=True, related_name="complaints_about")
    about_staff = models.ForeignKey("staffing.StaffMember", verbose_name=_("about the staff member"),
                                    on_delete=models.PROTECT, null=True, blank=True, related_name="complaints")
    summary = models.TextField(_("what the complaint says"))
    received_on = models.DateField(_("received on"))
    received_by = models.ForeignKey("accounts.User", verbose_name=_("received by"), on_delete=models.PROTECT,
                                    related_name="+")
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    # the clock
    answer_due = models.DateField(_("answer due"))
    due_provisional = models.BooleanField(_("provisional due date"), default=False)
    due_rule = models.CharField(_("deadline rule"), max_length=200, blank=True)
    # handling
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED)
    assigned_to = models.ForeignKey("accounts.User", verbose_name=_("handled by"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    answer = models.TextField(_("answer"), blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    root_cause = models.TextField(_("root cause"), blank=True)
    rectification = models.TextField(_("rectification"), blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    history = HistoricalRecords()

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_on", "-id"]
        permissions = [("manage_complaint", _("Can assign, investigate, answer and close complaints"))]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=["received", "investigating", "answered", "closed"]),
                                   name="complaint_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=["window", "phone", "authority"]), name="complaint_channel_valid"),
            models.CheckConstraint(condition=Q(complainant_person__isnull=False) | ~Q(complainant_name=""),
                                   name="complaint_has_complainant"),
            models.CheckConstraint(
                condition=~Q(status__in=["answered", "closed"]) | (Q(answered_on__isnull=False) & ~Q(answer="") & ~Q(root_cause="")),
                name="complaint_answered_has_answer_and_cause"),
            models.CheckConstraint(condition=~Q(status="closed") | (Q(closed_on__isnull=False) & ~Q(rectification="")),
                                   name="complaint_closed_has_rectification"),
            models.CheckConstraint(condition=Q(answered_on__isnull=True) | Q(answered_on__gte=models.F("received_on")),
                                   name="complaint_answer_after_receipt"),
        ]
        indexes = [models.Index(fields=["contract", "received_on"], name="complaint_contract_received")]

    def __str__(self) -> str:
        return self.complaint_no

    @property
    def on_time(self) -> bool | None:
        if self.answered_on is None:
            return None
        return self.answered_on <= self.answer_due


class StatusChangeQuerySet(models.QuerySet):
    def for_user(self, user) -> "StatusChangeQuerySet":
        return self if area_scope_ids(user) is None else self.filter(complaint__in=Complaint.objects.for_user(user))


class ComplaintStatusChange(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, choices=Complaint.Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Complaint.Status.choices)
    by = models.ForeignKey("accounts.User", verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True)

    objects = StatusChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint status change")
        verbose_name_plural = _("complaint status changes")
        ordering = ["complaint", "at", "id"]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_status} → {self.to_status}"
