"""The insured registry at scale: import batches, dated enrollment history, headcount
snapshots and SMS notifications. Imported from `programs.models` (same app label).

Dated changes: an `Enrollment` row holds the *current* attributes (area, category, employment,
suspension) valid since `attributes_from`; every earlier state is an `EnrollmentPeriod` row
(valid_from..valid_to, both inclusive). An exit is the enrollment's `enrolled_to` date. The state
on any date D is therefore the period covering D, else the current row when
`attributes_from <= D`, always within `enrolled_from..enrolled_to`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from insurance_admin.accounts.scoping import area_scope_ids, region_scope_ids
from insurance_admin.core.money import MONEY
from insurance_admin.core.transitions import StatusChangeBase


class ImportBatchQuerySet(models.QuerySet):
    def for_user(self, user) -> "ImportBatchQuerySet":
        """A user bound to a contract's whole region sees all its imports; a county-bound
        user sees the imports they uploaded themselves (their rows were limited to their
        areas)."""
        ids = area_scope_ids(user)
        if ids is None:
            return self
        regions = region_scope_ids(user) or frozenset()
        return self.filter(
            Q(contract__program__region_id__in=ids)
            | Q(created_by_id=user.pk, contract__program__region_id__in=regions)
        )


class ImportBatchStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    VALIDATING = "validating", _("Validating")
    VALIDATED = "validated", _("Validated, awaiting confirmation")
    APPLYING = "applying", _("Applying")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportBatchMode(models.TextChoices):
    FULL = "full", _("Complete list (additions, changes and exits)")
    PARTIAL = "partial", _("Additions and changes only")


class ImportBatchSource(models.TextChoices):
    GROUP = "group", _("Group")
    INDIVIDUAL = "individual", _("Individual")


class ImportBatch(models.Model):
    """One uploaded enrollment list and its way through validation and application.

    PENDING → VALIDATING → VALIDATED → (user confirms) APPLYING → DONE, or FAILED from any
    step. A task claims the row with `select_for_update(skip_locked=True)`, so a redelivered
    message never runs a step twice; APPLYING runs in one transaction (all or nothing).
    """

    Status = ImportBatchStatus
    Mode = ImportBatchMode
    Source = ImportBatchSource

    contract = models.ForeignKey(
        "programs.Contract", verbose_name=_("contract"), on_delete=models.PROTECT, related_name="import_batches"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, default=Mode.FULL)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.GROUP)
    effective_date = models.DateField(
        _("effective date"), help_text=_("Changes, additions and exits in this list take effect on this date.")
    )
    file = models.FileField(_("file"), upload_to="registry_imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("SHA-256"), max_length=64)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), default=0)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    # Area ids the uploader may import into; NULL = unrestricted (superuser).
    scope_area_ids = models.JSONField(_("area scope"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(_("phase"), max_length=40, blank=True)
    bytes_read = models.PositiveBigIntegerField(_("bytes read"), default=0)
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)
    rows_valid = models.PositiveBigIntegerField(_("valid rows"), default=0)
    rows_rejected = models.PositiveBigIntegerField(_("rejected rows"), default=0)
    rows_added = models.PositiveBigIntegerField(_("added"), default=0)
    rows_changed = models.PositiveBigIntegerField(_("changed"), default=0)
    rows_exited = models.PositiveBigIntegerField(_("exited"), default=0)
    rows_unchanged = models.PositiveBigIntegerField(_("unchanged"), default=0)
    rows_superseded = models.PositiveBigIntegerField(_("individual policies superseded"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    started_at = models.DateTimeField(_("validation started"), null=True, blank=True)
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    apply_started_at = models.DateTimeField(_("application started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    rejected_file = models.FileField(_("rejected rows"), upload_to="registry_imports/rejected/%Y/%m/", blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment list import")
        verbose_name_plural = _("enrollment list imports")
        ordering = ["-created_at", "-pk"]
        permissions = [("import_enrollment_list", _("Can import enrollment lists"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportBatchStatus.values),
                name="import_batch_status_valid",
            ),
            models.CheckConstraint(condition=Q(mode__in=ImportBatchMode.values), name="import_batch_mode_valid"),
            models.CheckConstraint(condition=Q(source__in=ImportBatchSource.values), name="import_batch_source_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.contract.code}, {self.get_status_display()})"


class ImportBatchStatusChange(StatusChangeBase):
    """One status change of an enrollment list import (programs.services.IMPORT_BATCH_STATES)."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="status_changes")

    class Meta(StatusChangeBase.Meta):
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.from_status or '—'} → {self.to_status}"


class EnrollmentPeriodQuerySet(models.QuerySet):
    def for_user(self, user) -> "EnrollmentPeriodQuerySet":
        # cycle: programs.models imports this module at its end
        from .models import Enrollment

        return self if area_scope_ids(user) is None else self.filter(enrollment__in=Enrollment.objects.for_user(user))


class EnrollmentPeriodStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    SUSPENDED = "suspended", _("Suspended")
    EXITED = "exited", _("Exited")


class EnrollmentPeriod(models.Model):
    """A past state of an enrollment's attributes, valid from..to (both inclusive).

    Written when a later list changes area, category or employment (or suspends/resumes):
    the state that held until the day before the change is kept here, never overwritten. A
    person who left and is on a later list again keeps the gap as an `exited` period (not
    covered those days), from the day after the exit to the day before the return.
    """

    Status = EnrollmentPeriodStatus

    enrollment = models.ForeignKey(
        "programs.Enrollment", verbose_name=_("enrollment"), on_delete=models.CASCADE, related_name="periods"
    )
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=16)
    category_detail = models.CharField(_("category detail"), max_length=30, blank=True)
    employment = models.CharField(_("employment"), max_length=16)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = EnrollmentPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment period")
        verbose_name_plural = _("enrollment periods")
        ordering = ["enrollment", "valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_to__gte=F("valid_from")), name="enrollment_period_ordered"),
            models.UniqueConstraint(fields=["enrollment", "valid_from"], name="enrollment_period_unique_start"),
            models.CheckConstraint(
                condition=Q(status__in=EnrollmentPeriodStatus.values), name="enrollment_period_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.valid_from}..{self.valid_to} {self.category}/{self.employment}"

    def get_category_display(self) -> str:
        # cycle: programs.models imports this module at its end
        from .models import Enrollment

        return Enrollment.Category(self.category).label

    def get_employment_display(self) -> str:
        # cycle: programs.models imports this module at its end
        from .models import Enrollment

        return Enrollment.Employment(self.employment).label


class HeadcountSnapshotKind(models.TextChoices):
    PROVISIONAL = "provisional", _("Provisional")
    FINAL = "final", _("Final")


class HeadcountSnapshot(models.Model):
    """Headcount of one area and category at a cut-off, with the premium it implies.

    `kind` provisional: e.g. Tongliao's 2025-04-30; final: the end of November.
    """

    Kind = HeadcountSnapshotKind

    contract = models.ForeignKey(
        "programs.Contract", verbose_name=_("contract"), on_delete=models.CASCADE, related_name="headcount_snapshots"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    as_of = models.DateField(_("cut-off date"))
    area = models.ForeignKey("programs.Area", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=16)
    employment = models.CharField(_("employment"), max_length=16)
    headcount = models.PositiveIntegerField(_("headcount"))
    per_capita = models.DecimalField(_("per-capita premium"), **MONEY, null=True, blank=True)
    premium = models.DecimalField(
        _("implied premium"), **MONEY, null=True, blank=True, help_text=_("Yuan: per-capita premium × headcount.")
    )
    taken_at = models.DateTimeField(_("taken at"), auto_now_add=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("taken by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("headcount snapshot")
        verbose_name_plural = _("headcount snapshots")
        ordering = ["contract", "kind", "area__code", "category", "employment"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "area", "category", "employment"], name="headcount_snapshot_unique"
            ),
            models.CheckConstraint(condition=Q(kind__in=HeadcountSnapshotKind.values), name="headcount_snapshot_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.kind} {self.as_of} {self.area_id} {self.category}: {self.headcount}"


class SmsNotificationQuerySet(models.QuerySet):
    def for_user(self, user) -> "SmsNotificationQuerySet":
        """Messages about enrollments in the user's areas."""
        ids = area_scope_ids(user)
        return self if ids is None else self.filter(enrollment__area_id__in=ids)


class SmsNotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class SmsNotification(models.Model):
    """An SMS to an insured person, queued in the transaction that decided it and sent by a
    task after commit. `key` is unique: the same event never queues (or sends) twice; a
    message the gateway did not take stays queued with the error and is tried again
    (`attempts`) until `SMS_MAX_ATTEMPTS`, then fails."""

    Status = SmsNotificationStatus

    key = models.CharField(_("key"), max_length=100, unique=True)
    person = models.ForeignKey(
        "programs.InsuredPerson", verbose_name=_("insured person"), on_delete=models.PROTECT, related_name="sms_notifications"
    )
    enrollment = models.ForeignKey(
        "programs.Enrollment", verbose_name=_("enrollment"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    message = models.TextField(_("message"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    backend = models.CharField(_("backend"), max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    message_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    error = models.TextField(_("error"), blank=True)

    objects = SmsNotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("SMS notification")
        verbose_name_plural = _("SMS notifications")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SmsNotificationStatus.values), name="sms_status_valid"),
        ]

    def __str__(self) -> str:
        return self.key
