from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids


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


class DeadlineQuerySet(models.QuerySet):
    def for_user(self, user) -> "DeadlineQuerySet":
        """Deadlines of the areas the user sees (a region-level deadline is visible to users
        of the region and of its counties, like the contract it belongs to)."""
        ids = area_scope_ids(user)
        if ids is None:
            return self
        return self.filter(area_id__in=region_scope_ids(user) or ids)


class DeadlineState(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    DUE_SOON = "due_soon", _("Due soon")
    DUE_TODAY = "due_today", _("Due today")
    OVERDUE = "overdue", _("Overdue")
    MET = "met", _("Met")


class Deadline(models.Model):
    """One obligation with a due date (DOMAIN.md §6), whatever object creates it: a claim's
    service time, a premium installment, a hospital payment, a revolving-fund payment, the
    pre-payment and its return, a deposit return. Written only by
    `insurance_admin.core.deadlines` (`deadline_track` / `deadline_meet`), called by the app
    that owns the object in the same transaction as the change it follows.

    `state` is the state as of the last scan (`deadlines_scan`); the state as of any other day
    is computed from the dates (`deadlines.state_as_of`, `selectors.deadlines_as_of`)."""

    class Kind(models.TextChoices):
        CLAIM_SERVICE = "claim_service", _("Manual-claim service time")
        PREMIUM_INSTALLMENT = "premium_installment", _("Premium installment")
        HOSPITAL_PAYMENT = "hospital_payment", _("Hospital payment")
        REVOLVING_OPENING = "revolving_opening", _("Revolving fund opening")
        REVOLVING_TOPUP = "revolving_topup", _("Revolving fund top-up")
        PREPAYMENT = "prepayment", _("Pre-payment")
        PREPAYMENT_RETURN = "prepayment_return", _("Pre-payment return")
        DEPOSIT_RETURN = "deposit_return", _("Deposit return")
        ASSESSMENT_REREVIEW = "assessment_rereview", _("Assessment re-review")
        COMPLAINT_ANSWER = "complaint_answer", _("Complaint answer")
        SERVICE_WINDOW = "service_window", _("Service window set-up")
        ANNUAL_AUDIT = "annual_audit", _("Annual audit")
        PERIODIC_REPORT = "periodic_report", _("Periodic report")

    class Consequence(models.TextChoices):
        LIABILITY_SUSPENDED = "liability_suspended", _("Insurer's liability suspended")

    State = DeadlineState

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField(_("object id"))
    label = models.CharField(_("object"), max_length=200)
    link = models.CharField(_("link"), max_length=300, blank=True, help_text=_("the object's page"))
    contract = models.ForeignKey("programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE, null=True,
                                 blank=True, related_name="+")
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+", help_text=_("the county, or the pooling region for contract-wide obligations"))
    role = models.CharField(_("responsible role"), max_length=32, help_text=_("a role group name, e.g. finance"))
    due_date = models.DateField(_("due date"))
    working_days = models.BooleanField(_("counted in working days"), default=False)
    provisional = models.BooleanField(
        _("provisional"), default=False, help_text=_("counted through a year whose holiday arrangement is not on file yet"))
    rule = models.CharField(_("rule"), max_length=300, blank=True)
    remind_on = models.DateField(_("remind from"), help_text=_("first day of the due-soon stage"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.UPCOMING)
    met_on = models.DateField(_("met on"), null=True, blank=True, help_text=_("business date the obligation was met"))
    met_at = models.DateTimeField(_("met recorded at"), null=True, blank=True)
    met_by = models.ForeignKey("accounts.User", verbose_name=_("met by"), on_delete=models.SET_NULL, null=True,
                               blank=True, related_name="+")
    met_what = models.CharField(_("met by what"), max_length=200, blank=True)
    consequence = models.CharField(
        _("consequence while overdue"), max_length=32, choices=Consequence.choices, blank=True,
        help_text=_("what the contract says happens while the obligation is overdue and unmet"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_date", "id"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["kind", "content_type", "object_id"], name="deadline_one_per_object_and_kind"),
            models.CheckConstraint(condition=models.Q(remind_on__lte=models.F("due_date")), name="deadline_remind_before_due"),
            models.CheckConstraint(
                condition=models.Q(met_on__isnull=True, met_at__isnull=True) | models.Q(met_on__isnull=False, met_at__isnull=False),
                name="deadline_met_has_date_and_time",
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=DeadlineState.values), name="deadline_state_valid"),
        ]
        indexes = [
            models.Index(fields=["due_date"], name="deadline_open_due", condition=models.Q(met_on__isnull=True)),
            models.Index(fields=["contract", "due_date"], name="deadline_contract_due"),
            models.Index(fields=["area", "due_date"], name="deadline_area_due"),
        ]

    def __str__(self) -> str:
        contract = f"{self.contract.name} " if self.contract_id else ""
        return f"{self.get_kind_display()} {contract}{self.display_label()} {self.due_date:%Y-%m-%d}"

    def display_label(self) -> str:
        """The object's name without the contract's internal code (pages show the contract's
        title beside it): "tongliao-2025 #2" reads "#2", a claim keeps its claim number."""
        label = self.label
        if self.contract_id and label.startswith(self.contract.code):
            label = label[len(self.contract.code):].strip()
        return label

    display_label.short_description = _("object")


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "NotificationQuerySet":
        """A user's own inbox; superusers see every inbox (administration)."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self if user.is_superuser else self.filter(recipient=user)


class NotificationStage(models.TextChoices):
    DUE_SOON = "due_soon", _("Reminder: due soon")
    OVERDUE = "overdue", _("Overdue")
    ESCALATED = "escalated", _("Escalated: overdue")


class Notification(models.Model):
    """One reminder or escalation in a user's inbox. Unique per (deadline, stage, recipient): a
    retried scan, a second beat firing or two workers insert nothing twice, and the e-mail goes
    out only for the row whose `emailed_at` this process set (`deadlines.notifications_email`)."""

    Stage = NotificationStage

    recipient = models.ForeignKey("accounts.User", verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications")
    deadline = models.ForeignKey(Deadline, verbose_name=_("deadline"), on_delete=models.CASCADE, related_name="notifications")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    text = models.TextField(_("text"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)
        constraints = [
            models.UniqueConstraint(fields=["deadline", "stage", "recipient"], name="notification_once_per_stage_and_recipient"),
            models.CheckConstraint(condition=models.Q(stage__in=NotificationStage.values), name="notification_stage_valid"),
        ]
        indexes = [models.Index(fields=["recipient"], name="notification_unread", condition=models.Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.recipient_id}: {self.get_stage_display()} {self.deadline_id}"


class CalendarFeed(models.Model):
    """A user's secret token for the iCal feed of their deadlines (`/deadlines/calendar.ics?token=…`).
    The token is the only credential of the feed: rotating it replaces it, the old URL stops
    answering at once."""

    user = models.OneToOneField("accounts.User", verbose_name=_("user"), on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(_("token"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.user_id}"


class TaskFailureQuerySet(models.QuerySet):
    def for_user(self, user) -> "TaskFailureQuerySet":
        """Failures carry task arguments (ids), no area: administrators' and superusers' reading."""
        if user is None or not user.is_authenticated:
            return self.none()
        return self if user.is_superuser or user.has_perm("core.view_taskfailure") else self.none()


class TaskFailure(models.Model):
    """A Celery task that raised (recorded by the `task_failure` signal), for administrators:
    shown on the system status page and in the admin. Retries that end well leave nothing."""

    task_id = models.CharField(_("task id"), max_length=64)
    task_name = models.CharField(_("task"), max_length=200)
    args = models.CharField(_("arguments"), max_length=500, blank=True)
    exception = models.CharField(_("exception"), max_length=500)
    traceback = models.TextField(_("traceback"), blank=True)
    hostname = models.CharField(_("host"), max_length=200, blank=True)
    failed_at = models.DateTimeField(_("failed at"))

    objects = TaskFailureQuerySet.as_manager()

    class Meta:
        verbose_name = _("failed task")
        verbose_name_plural = _("failed tasks")
        ordering = ["-failed_at", "-id"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["-failed_at"], name="taskfailure_recent")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.failed_at:%Y-%m-%d %H:%M}"
