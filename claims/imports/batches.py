"""Batch services: upload → validate → confirm → apply (one transaction) → recompute, with the
batch's totals, payment due date and progress."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from insurance_admin.core.imports import progress as import_progress
from insurance_admin.core.imports.batches import hold
from insurance_admin.core.imports.files import ImportRefused, check_upload, count_rows
from insurance_admin.core.transitions import StateMachine
from insurance_admin.core.workdays import Deadline, load_calendar
from programs.models import Area, Contract

from ..hooks import hospital_payables
from ..models import (
    HospitalBatch,
    HospitalBatchLog,
    HospitalBatchSettlement,
    HospitalBatchStatusChange,
    HospitalSettlementTerms,
    Recovery,
    Settlement,
)
from ..services import settlements_recompute
from .rows import (
    CENT,
    VALUE_FIELDS,
    ChunkRow,
    RejectedRows,
    RowErrors,
    scan,
)

logger = logging.getLogger(__name__)

_B = HospitalBatch.Status
#: A hospital monthly file's way (HospitalBatch): the only place its status changes.
HOSPITAL_BATCH_STATES = StateMachine(HospitalBatch, HospitalBatchStatusChange, "batch", {
    _B.PENDING: {_B.VALIDATING},
    _B.VALIDATING: {_B.VALIDATED, _B.REFUSED, _B.FAILED},
    _B.VALIDATED: {_B.APPLYING},
    # APPLYING -> REFUSED: a row no longer passes when re-checked inside the import
    _B.APPLYING: {_B.DONE, _B.REFUSED, _B.FAILED},
    _B.DONE: set(),
    _B.REFUSED: set(),
    _B.FAILED: {_B.PENDING},  # retried (batch_retry)
})

# --- progress (outside the import transaction, readable by the web process) ---------------


PROGRESS_KIND = "hospital"  # the batches' entries in the import framework's progress store


def progress_write(batch_id: int, phase: str, done: int, total: int) -> None:
    """Progress lives in the import framework's store, not in the batch row: the import runs in
    one transaction whose writes nobody else sees until it commits (and on SQLite a second
    writer would wait for it)."""
    import_progress.progress_write(PROGRESS_KIND, batch_id, {"phase": phase, "done": done, "total": total})


def progress_read(batch_id: int) -> dict:
    return {"phase": "", "done": 0, "total": 0, **import_progress.progress_read(PROGRESS_KIND, batch_id)}


PHASE_LABELS = {
    "validating": _("checking rows"), "validated": _("checked"), "applying": _("writing settlements"),
    "recomputing": _("recomputing with the engine"), "done": _("finished"),
}


def batch_progress(batch: HospitalBatch) -> dict:
    """What the page's progress bar shows (the JSON endpoint)."""
    info = progress_read(batch.pk)
    running = batch.status in (HospitalBatch.Status.PENDING, HospitalBatch.Status.VALIDATING, HospitalBatch.Status.APPLYING)
    total = info["total"] or batch.row_count
    done = info["done"] if running else total
    percent = 100 if not running else (min(99, int(done * 100 / total)) if total else 0)
    return {
        "status": batch.status,
        "status_label": str(batch.get_status_display()),
        "running": running,
        "phase": info["phase"],
        "phase_label": str(PHASE_LABELS.get(info["phase"], "")),
        "done": done,
        "total": total,
        "percent": percent,
    }


# --- services --------------------------------------------------------------------------------


def _log(batch: HospitalBatch, action: str, user=None, **summary) -> None:
    HospitalBatchLog.objects.create(batch=batch, action=action, by=user, file_sha256=batch.file_sha256,
                                    summary={k: str(v) if isinstance(v, Decimal) else v for k, v in summary.items()})


def _sha256(uploaded) -> str:
    digest = hashlib.sha256()
    for block in uploaded.chunks():
        digest.update(block)
    uploaded.seek(0)
    return digest.hexdigest()


@transaction.atomic
def batch_upload(*, contract: Contract, month: dt.date, uploaded_file, user, reported_on: dt.date | None = None) -> HospitalBatch:
    """Store an uploaded file as a PENDING batch (hash, format); validation comes next
    (`batch_validate`, inline or as a task). An unsupported file type is refused at once."""
    sha = _sha256(uploaded_file)
    batch = HospitalBatch(
        contract=contract, month=month.replace(day=1), reported_on=reported_on or timezone.localdate(),
        file_name=os.path.basename(uploaded_file.name)[:255], file_sha256=sha, uploaded_by=user, file_format="",
    )
    try:
        batch.file_format = check_upload(uploaded_file.name, uploaded_file.size or 0)
    except ImportRefused as exc:  # born refused (a new row's first status, not a transition)
        batch.file_format = os.path.splitext(uploaded_file.name)[1][1:8].lower() or "?"
        batch.status = HospitalBatch.Status.REFUSED  # status-ok: creation
        batch.errors = [{"row": None, "column": "", "code": exc.code, "params": exc.params}]
        batch.error_count = 1
    batch.file.save(f"{sha[:16]}-{batch.file_name}", uploaded_file, save=False)
    batch.full_clean()
    batch.save()
    HOSPITAL_BATCH_STATES.created(batch, by=user)
    _log(batch, "uploaded", user, file_name=batch.file_name, size=uploaded_file.size, status=batch.status)
    progress_write(batch.pk, "", 0, 0)
    return batch


def _claim(batch_id: int, expected: str, new: str) -> HospitalBatch | None:
    """Move a batch from `expected` to `new` if nobody else has: the row is locked with SKIP
    LOCKED, so a redelivered task finds it taken (or already past `expected`) and does nothing."""
    if HOSPITAL_BATCH_STATES.claim(batch_id, [expected], new) is None:
        return None
    return HospitalBatch.objects.select_related("contract__program", "uploaded_by").get(pk=batch_id)


def batch_validate(batch_id: int) -> HospitalBatch:
    """Check every row of a PENDING batch; VALIDATED with counts and a preview, or REFUSED
    with the error list. Writes no settlement.

    Like `batch_apply`, the batch is shown as VALIDATING (committed), then locked FOR UPDATE
    SKIP LOCKED while it is checked: a redelivered message finds it locked and does nothing,
    while a batch left VALIDATING by a worker that died is checked again by the redelivery.
    An unexpected exception during the check ends the batch FAILED with the reason (it can be
    retried, `batch_retry`), never VALIDATING for good."""
    _claim(batch_id, HospitalBatch.Status.PENDING, HospitalBatch.Status.VALIDATING)
    batch = None
    try:
        with transaction.atomic():
            if hold(HospitalBatch, batch_id, HospitalBatch.Status.VALIDATING) is None:
                return HospitalBatch.objects.get(pk=batch_id)
            batch = HospitalBatch.objects.select_related("contract__program", "uploaded_by").get(pk=batch_id)
            _validate_locked(batch)
    except Exception as exc:
        if batch is None:
            raise
        logger.exception("hospital batch %s: the check failed", batch_id)
        _fail(batch, exc, "check_failed")
    return batch


def _validate_locked(batch: HospitalBatch) -> None:
    total = _safe_count(batch)
    progress_write(batch.pk, "validating", 0, total)
    errors = RowErrors(RejectedRows())
    result = scan(batch, errors, progress=lambda done: progress_write(batch.pk, "validating", done, total))
    _keep_rejected(batch, errors)
    batch.row_count, batch.created_count, batch.unchanged_count = result.rows, result.new, result.unchanged
    batch.fixmedins_code, batch.fixmedins_name = result.hospital
    batch.preview = result.preview or []
    batch.errors, batch.error_count = errors.items, errors.count
    HOSPITAL_BATCH_STATES.move(batch, HospitalBatch.Status.REFUSED if errors else HospitalBatch.Status.VALIDATED)
    _log(batch, "refused" if errors else "validated", None, rows=result.rows, new=result.new,
         unchanged=result.unchanged, errors=errors.count)
    progress_write(batch.pk, "validated", result.rows, result.rows)


def _keep_rejected(batch: HospitalBatch, errors: RowErrors) -> None:
    """The scan's rejected-rows file on the batch (not yet saved) when it rejected rows."""
    rejected = errors.rejected
    try:
        if rejected.rows:
            stem = os.path.splitext(batch.file_name)[0][:80]
            batch.rejected_file.save(f"{batch.file_sha256[:16]}-{stem}-rejected.csv", rejected.file.file(), save=False)
    finally:
        rejected.file.close()


def _fail(batch: HospitalBatch, exc: Exception, code: str) -> None:
    """End a batch FAILED with the exception as its reason (its own transaction)."""
    batch.errors = [{"row": None, "column": "", "code": code, "params": {"detail": f"{type(exc).__name__}: {exc}"[:300]}}]
    batch.error_count = 1
    with transaction.atomic():
        HOSPITAL_BATCH_STATES.move(batch, HospitalBatch.Status.FAILED, message=type(exc).__name__,
                                   update_fields=["errors", "error_count"])
        _log(batch, "failed", None, error=type(exc).__name__)
    progress_write(batch.pk, "done", 0, 0)


@transaction.atomic
def batch_retry(*, batch: HospitalBatch, user) -> HospitalBatch:
    """Put a FAILED batch back to PENDING so that its stored file is checked again (then
    confirmed and imported as usual). Anything else is refused."""
    batch = HospitalBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != HospitalBatch.Status.FAILED:
        raise ValidationError(gettext("Only a failed batch can be retried."), code="not_failed")
    batch.errors, batch.error_count, batch.confirmed_by = [], 0, None
    batch.rejected_file = ""
    HOSPITAL_BATCH_STATES.move(batch, HospitalBatch.Status.PENDING, by=user,
                               update_fields=["errors", "error_count", "confirmed_by", "rejected_file"])
    _log(batch, "retried", user)
    progress_write(batch.pk, "", 0, 0)
    return batch


def _safe_count(batch: HospitalBatch) -> int:
    try:
        return count_rows(batch.file.path, batch.file_format)
    except Exception:  # noqa: BLE001 - the scan reports unreadable files properly
        return 0


@transaction.atomic
def batch_confirm(*, batch: HospitalBatch, user) -> HospitalBatch:
    """A person confirms a VALIDATED batch for import (the import itself is `batch_apply`)."""
    batch = HospitalBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != HospitalBatch.Status.VALIDATED:
        raise ValueError(f"batch {batch.pk} is {batch.status}, not validated")
    batch.confirmed_by = user
    batch.save(update_fields=["confirmed_by"])
    _log(batch, "confirmed", user)
    return batch


class _Refused(Exception):
    pass


def batch_apply(batch_id: int) -> HospitalBatch:
    """Import a confirmed batch in ONE transaction: re-check every row (the database may have
    changed since validation), create the new settlements, recompute the persons concerned
    with the engine, offset the hospital's pending recoveries, compute totals and due date.

    The batch is shown as APPLYING first (committed), then locked FOR UPDATE SKIP LOCKED for
    the length of the import transaction: a redelivered message finds it locked (or DONE) and
    does nothing, while a batch left APPLYING by a worker that died (its transaction rolled
    back, its lock gone) is picked up again by the redelivery.
    """
    _claim(batch_id, HospitalBatch.Status.VALIDATED, HospitalBatch.Status.APPLYING)
    errors = RowErrors(RejectedRows())
    batch = None
    try:
        with transaction.atomic():
            if hold(HospitalBatch, batch_id, HospitalBatch.Status.APPLYING) is None:
                return HospitalBatch.objects.get(pk=batch_id)
            batch = HospitalBatch.objects.select_related("contract__program", "uploaded_by", "confirmed_by").get(pk=batch_id)
            _import_locked(batch, errors)
    except _Refused:
        batch.errors, batch.error_count = errors.items, errors.count
        _keep_rejected(batch, errors)
        with transaction.atomic():
            HOSPITAL_BATCH_STATES.move(batch, HospitalBatch.Status.REFUSED,
                                       update_fields=["errors", "error_count", "rejected_file"])
            _log(batch, "refused", None, errors=errors.count)
    except Exception as exc:
        if batch is None:
            raise
        _fail(batch, exc, "failed")
        raise
    finally:
        errors.rejected.file.close()
        if batch is not None:
            progress_write(batch.pk, "done", batch.row_count, batch.row_count)
    return batch


def _import_locked(batch: HospitalBatch, errors: RowErrors) -> None:
    total = batch.row_count
    contract = batch.contract

    def write(rows: list[ChunkRow]) -> None:
        ids = insert_settlements(contract.pk, rows)
        _insert_links([(ids[r.values["setl_id"]], batch.pk, r.number) for r in rows])

    progress_write(batch.pk, "applying", 0, total)
    result = scan(batch, errors, on_rows=write, progress=lambda done: progress_write(batch.pk, "applying", done, total))
    if errors:
        raise _Refused
    progress_write(batch.pk, "recomputing", total, total)
    _recompute(batch)
    Recovery.objects.filter(
        offset_batch__isnull=True, program=contract.program, fixmedins_code=result.hospital[0]
    ).update(offset_batch=batch)
    batch.row_count, batch.created_count, batch.unchanged_count = result.rows, result.new, result.unchanged
    batch.applied_at = timezone.now()
    _fill_totals(batch)
    HOSPITAL_BATCH_STATES.move(batch, HospitalBatch.Status.DONE)
    _log(batch, "imported", batch.confirmed_by, **_summary(batch))


@transaction.atomic
def batch_record_admin_import(
    *, contract: Contract, month: dt.date, user, file_name: str, sha256: str, created: list[tuple[int, int]],
    row_count: int, hospital: tuple[str, str],
) -> HospitalBatch:
    """Record a file imported row by row through the admin (django-import-export) as a DONE
    batch, inside the import's own transaction: links its new settlements (`created` =
    [(settlement id, row)]), recomputes them, offsets recoveries, computes totals and due date."""
    batch = HospitalBatch(
        contract=contract, month=month.replace(day=1), reported_on=timezone.localdate(), file_name=file_name[:255] or "admin",
        file_sha256=sha256, file_format="admin", uploaded_by=user, confirmed_by=user, fixmedins_code=hospital[0],
        fixmedins_name=hospital[1], row_count=row_count, created_count=len(created), unchanged_count=row_count - len(created),
        status=HospitalBatch.Status.DONE, applied_at=timezone.now(),
    )
    batch.full_clean()
    batch.save()
    HOSPITAL_BATCH_STATES.created(batch, by=user, message="admin")
    HospitalBatchSettlement.objects.bulk_create(
        [HospitalBatchSettlement(settlement_id=int(pk), batch=batch, row_no=row) for pk, row in created]
    )
    _recompute(batch)
    Recovery.objects.filter(offset_batch__isnull=True, program=contract.program, fixmedins_code=hospital[0]).update(offset_batch=batch)
    _fill_totals(batch)
    batch.save()
    _log(batch, "imported", user, via="admin", **_summary(batch))
    return batch


def insert_settlements(contract_id: int, rows: list[ChunkRow]) -> dict[str, int]:
    """Insert checked rows as instant settlements; returns {setl_id: id}. COPY on PostgreSQL,
    one executemany on SQLite: the ORM's per-field preparation of 30 columns was most of the
    import's time. Values are already clean (clean_row), so nothing is lost by skipping it."""
    if not rows:
        return {}
    table = Settlement._meta.db_table
    columns = ("contract_id", "person_id", "area_id", "source", *VALUE_FIELDS, "items")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((contract_id, r.person_id, r.area_id, "instant", *(r.values[f] for f in VALUE_FIELDS), "[]"))
    else:
        adapt = _sqlite_value
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        with connection.cursor() as cursor:
            cursor.executemany(sql, [
                (contract_id, r.person_id, r.area_id, "instant", *(adapt(r.values[f]) for f in VALUE_FIELDS), "[]")
                for r in rows
            ])
    return dict(Settlement.objects.filter(setl_id__in=[r.values["setl_id"] for r in rows]).values_list("setl_id", "pk"))


def _insert_links(rows: list[tuple[int, int, int]]) -> None:
    table = HospitalBatchSettlement._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} (settlement_id, batch_id, row_no) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} (settlement_id, batch_id, row_no) VALUES (%s, %s, %s)", rows)


def _sqlite_value(value):
    """As Django's SQLite backend stores it: decimals and dates as text, datetimes as UTC text."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return value


def _summary(batch: HospitalBatch) -> dict:
    return {
        "rows": batch.row_count, "new": batch.created_count, "unchanged": batch.unchanged_count,
        "differing": batch.differing_count, "platform_total": batch.platform_total, "engine_total": batch.engine_total,
        "deductions_total": batch.deductions_total, "recoveries_total": batch.recoveries_total,
        "payable_total": batch.payable_total, "due_date": batch.due_date.isoformat() if batch.due_date else None,
    }


def _recompute(batch: HospitalBatch) -> None:
    """The engine's recomputation of every person the batch touched (all their settlements of
    the contract, in settlement order, so cumulative bands and caps are right)."""
    persons = HospitalBatchSettlement.objects.filter(batch=batch).values("settlement__person_id")
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        # The recomputation reads through server-side cursors, for which PostgreSQL prefers
        # fast-start plans: with the batch's persons as a semi-join that meant a nested loop
        # over the whole settlement table per person (minutes for 100,000 rows). Plan for the
        # total instead (hash join + sort), for this transaction only.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
    settlements_recompute(contract=batch.contract, person_ids=persons, chunk_size=2000)


def batch_settlements(batch: HospitalBatch):
    return Settlement.objects.filter(hospital_batch_link__batch=batch)


def _fill_totals(batch: HospitalBatch) -> None:
    platform_field = batch.contract.program.platform_paid_field
    settlements = batch_settlements(batch)
    sums = settlements.aggregate(
        platform=Sum(platform_field or "hifmi_pay"),
        engine=Sum("verification__engine_payable"),
        differing=Count("pk", filter=~Q(verification__difference=0) & Q(verification__difference__isnull=False)),
    )
    zero = Decimal("0.00")
    batch.platform_total = (sums["platform"] or zero).quantize(CENT) if platform_field else zero
    batch.engine_total = (sums["engine"] or zero).quantize(CENT)
    batch.differing_count = sums["differing"] or 0
    batch.deductions_total = sum(
        (d.amount for d in batch.deductions.all() if d.confirmed), zero
    )
    batch.recoveries_total = (batch.recoveries_offset.aggregate(total=Sum("amount"))["total"] or zero).quantize(CENT)
    reimbursed = batch.platform_total if platform_field else batch.engine_total
    batch.payable_total = reimbursed - batch.deductions_total - batch.recoveries_total
    due = payment_due(batch)
    batch.due_date, batch.due_provisional = (due.date, due.provisional) if due else (None, False)


@transaction.atomic
def batch_totals_refresh(*, batch: HospitalBatch) -> HospitalBatch:
    """Recompute a DONE batch's totals (after a deduction is confirmed or a recovery offset)."""
    batch = HospitalBatch.objects.select_for_update().select_related("contract__program").get(pk=batch.pk)
    _fill_totals(batch)
    batch.save()
    return batch


# --- due date --------------------------------------------------------------------------------


def payment_due(batch: HospitalBatch):
    """The day the insurer must pay the hospital (a workdays.Deadline), or None "by agreement"."""
    return payment_due_for(contract_id=batch.contract_id, month=batch.month, reported_on=batch.reported_on)


def payment_due_for(*, contract_id: int, month: dt.date, reported_on: dt.date | None = None):
    """The contract's hospital payment rule (HospitalSettlementTerms, the one place it lives)
    for one settlement month: a Deadline, or None when the contract leaves it to agreement.
    Without a report date, a report-based rule counts from the day the report was due."""
    terms = HospitalSettlementTerms.objects.filter(contract_id=contract_id).first()
    if terms is None:
        return None
    if terms.rule == HospitalSettlementTerms.Rule.DAY_OF_NEXT_MONTH:
        return Deadline(day_of_next_month(month, terms.pay_day), False)
    if reported_on is None:
        reported_on = day_of_next_month(month, terms.report_by_day or 1)
    return load_calendar().add_working_days(reported_on, terms.working_days)


def day_of_next_month(month: dt.date, day: int) -> dt.date:
    """`day` of the month after `month`, or that month's last day when it is shorter (February)."""
    first = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return min(first.replace(day=1) + dt.timedelta(days=day - 1), following - dt.timedelta(days=1))


def report_deadline(batch: HospitalBatch) -> dt.date | None:
    """The day the hospital's report was due (Taikang: the 10th of the following month)."""
    terms = HospitalSettlementTerms.objects.filter(contract_id=batch.contract_id).first()
    if terms is None or not terms.report_by_day:
        return None
    return day_of_next_month(batch.month, terms.report_by_day)


@dataclass(frozen=True)
class BatchPayable:
    amount: Decimal  # yuan; negative when recoveries exceed what is owed (the hospital owes)
    due_date: dt.date | None  # None: "by agreement"
    provisional: bool


def batch_payable(batch: HospitalBatch) -> BatchPayable:
    """For finance: what the insurer owes the hospital for a DONE batch, and by when."""
    if batch.status != HospitalBatch.Status.DONE:
        raise ValueError(f"batch {batch.pk} is {batch.status}, not imported")
    return BatchPayable(batch.payable_total, batch.due_date, batch.due_provisional)


PAYABLE_REFERENCE = "hospital-batch-{pk}"


def batch_payable_posted(batch: HospitalBatch):
    """The finance payable this batch was handed over as, or None."""
    return hospital_payables().find(PAYABLE_REFERENCE.format(pk=batch.pk))


@transaction.atomic
def batch_payable_post(*, batch: HospitalBatch, user):
    """Hand a DONE batch's payable (after confirmed deductions and recoveries) to finance as a
    hospital payable with its due date; idempotent on the batch. Afterwards the batch's
    deductions are closed: a later finding is a recovery against the next batch."""
    if not user.has_perm("finance.manage_finance"):
        raise PermissionDenied(gettext("You may not record hospital payables."))
    batch = HospitalBatch.objects.select_for_update().get(pk=batch.pk)
    payable = batch_payable(batch)
    if payable.amount <= 0:
        raise ValidationError(gettext("Nothing is payable to the hospital for this batch."), code="nothing")
    area_id = (Settlement.objects.filter(hospital_batch_link__batch=batch).values("area_id")
               .annotate(n=Count("id")).order_by("-n", "area_id").values_list("area_id", flat=True).first())
    record = hospital_payables().record(
        contract=batch.contract, area=Area.objects.get(pk=area_id), fixmedins_code=batch.fixmedins_code,
        fixmedins_name=batch.fixmedins_name, period=batch.month, amount=payable.amount, due_date=payable.due_date,
        reference=PAYABLE_REFERENCE.format(pk=batch.pk), user=user,
    )
    _log(batch, "payable_posted", user, amount=str(payable.amount), reference=record.reference)
    return record
