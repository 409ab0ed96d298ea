"""Writes on persons and enrollments: validated in full, audited in the same transaction."""

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connections, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from simple_history.utils import update_change_reason

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.imports import progress as import_progress
from insurance_admin.core.imports.batches import hold
from insurance_admin.core.imports.files import ImportRefused, check_size
from insurance_admin.core.money import headcount_premium
from insurance_admin.core.transitions import StateMachine

from .identity import normalize_certno, parse_certno
from .models import (
    Area,
    BenefitPlan,
    Contract,
    Enrollment,
    EnrollmentCarryForward,
    EnrollmentPeriod,
    HeadcountSnapshot,
    ImportBatch,
    ImportBatchStatusChange,
    InsuredPerson,
    SmsNotification,
)
from .registry import bulk, rule
from .registry.files import file_format, sniff_upload
from .registry.rows import RowContext, reasons
from .selectors import (
    APPLY_PROGRESS_KIND,
    VALIDATE_PROGRESS_KIND,
    headcount_on,
    import_batch_interrupted,
    premium_rate_for,
)
from .sms import SmsError, get_backend

logger = logging.getLogger(__name__)


@transaction.atomic
def person_create(*, certno: str, name: str, psn_no: str | None = None, phone: str = "", reason: str = "") -> InsuredPerson:
    certno = normalize_certno(certno)
    try:
        birth_date, sex = parse_certno(certno)
    except ValidationError as exc:
        raise ValidationError({"certno": exc.messages}) from None
    person = InsuredPerson(certno=certno, name=name, psn_no=psn_no or None, phone=phone, birth_date=birth_date, sex=sex)
    person.full_clean()
    person.save()
    if reason:
        update_change_reason(person, reason)
    return person


@transaction.atomic
def enrollment_create(
    *,
    person: InsuredPerson,
    contract: Contract,
    area: Area,
    enrolled_from: dt.date,
    reason: str = "",
    **attributes,
) -> Enrollment:
    superseded = None
    if attributes.get("source", Enrollment.Source.GROUP) == Enrollment.Source.GROUP:
        # Beijing (DOMAIN.md §4.4): the group enrollment wins over an individual policy.
        superseded = (
            Enrollment.objects.filter(person=person, contract=contract, source=Enrollment.Source.INDIVIDUAL)
            .exclude(status=Enrollment.Status.CANCELLED)
            .first()
        )
        if superseded is not None:
            enrollment_supersede(individual=superseded, on=enrolled_from)
    enrollment = Enrollment(person=person, contract=contract, area=area, enrolled_from=enrolled_from, **attributes)
    enrollment.full_clean()
    enrollment.save()
    if reason:
        update_change_reason(enrollment, reason)
    if superseded is not None:
        superseded.refresh_from_db()
        superseded.superseded_by = enrollment
        superseded.save(update_fields=["superseded_by"])
    return enrollment


ROLL_FORWARD_FIELDS = ("person_id", "area_id", "category", "category_detail", "employment", "health",
                       "continuous_no_claim_3y", "student", "source")


def _carry_forward_checks(*, source: Contract, target: Contract, on: dt.date) -> None:
    if source.program_id != target.program_id:
        raise ValidationError(gettext("Enrollments are carried forward within one program only."))
    if not (target.period_start <= on <= target.period_end):
        raise ValidationError({"enrolled_from": gettext("The effective date must lie within the contract period.")})
    if Enrollment.objects.filter(contract=target).exists():
        raise ValidationError(gettext("This contract has enrollments already."))


def _in_force_at_end(source: Contract):
    return (Enrollment.objects.filter(contract=source, status=Enrollment.Status.ACTIVE)
            .filter(Q(enrolled_to__isnull=True) | Q(enrolled_to__gte=source.period_end)))


def _carry_chunk(*, source: Contract, target_id: int, on: dt.date, after: int, chunk_size: int) -> tuple[int, int | None]:
    """Copy the next `chunk_size` in-force enrollments of `source` (pk > `after`) into the
    target with their history rows, in two INSERT … SELECT statements (PostgreSQL and SQLite
    alike); a person the target holds already is skipped (a rerun never writes anyone twice).
    Returns (rows written, the chunk's last source pk or None when nothing is left). Runs inside
    the caller's transaction."""
    in_force = _in_force_at_end(source).filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)
    last = next(iter(in_force[chunk_size - 1:chunk_size]), None) or in_force.aggregate(m=Max("pk"))["m"]
    if last is None:
        return 0, None
    connection = connections[Enrollment.objects.db]
    qn = connection.ops.quote_name
    table, hist = Enrollment._meta.db_table, Enrollment.history.model._meta
    columns, values, params = [], [], []
    for f in Enrollment._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(qn(f.column))
        if f.attname in ROLL_FORWARD_FIELDS:
            values.append(f"src.{qn(f.column)}")
            continue
        value = target_id if f.attname == "contract_id" else on if f.attname == "enrolled_from" else f.get_default()
        values.append("%s")
        params.append(f.get_db_prep_save(value, connection))
    status, person, contract, pk = (qn(Enrollment._meta.get_field(n).column) for n in ("status", "person", "contract", "id"))
    enrolled_to = qn(Enrollment._meta.get_field("enrolled_to").column)
    # A person the target holds already is skipped by the one-per-person-and-contract unique
    # index (ON CONFLICT DO NOTHING: PostgreSQL and SQLite), not by an anti-join, whose plan
    # PostgreSQL picks from the target's statistics, stale while the job fills it.
    postgres = connection.vendor == "postgresql"
    before = None if postgres else Enrollment.objects.filter(contract_id=target_id).aggregate(m=Max("pk"))["m"] or 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(table)} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {qn(table)} src "
            f"WHERE src.{contract} = %s AND src.{status} = %s AND (src.{enrolled_to} IS NULL OR src.{enrolled_to} >= %s) "
            f"AND src.{pk} > %s AND src.{pk} <= %s ORDER BY src.{pk} ON CONFLICT DO NOTHING"
            + (f" RETURNING {pk}" if postgres else ""),
            [*params, source.pk, Enrollment.Status.ACTIVE, source.period_end, after, last])
        new_ids = [row[0] for row in cursor.fetchall()] if postgres else None
        written = len(new_ids) if postgres else cursor.rowcount
        # their history rows, as bulk_create_with_history writes them ("+", "carried forward")
        h_columns, h_values, h_params = [], [], []
        for f in hist.concrete_fields:
            if f.name == "history_id":
                continue
            h_columns.append(qn(f.column))
            if f.name == "history_date":
                h_values.append("%s")
                h_params.append(f.get_db_prep_save(timezone.now(), connection))
            elif f.name in ("history_type", "history_change_reason"):
                h_values.append("%s")
                h_params.append("+" if f.name == "history_type" else "carried forward")
            elif f.name == "history_user":
                h_values.append("NULL")
            else:
                h_values.append(f"t.{qn(f.column)}")
        insert = f"INSERT INTO {qn(hist.db_table)} ({', '.join(h_columns)}) SELECT {', '.join(h_values)} FROM {qn(table)} t "
        if postgres:  # exactly the rows just written
            cursor.execute(f"{insert} WHERE t.{pk} = ANY(%s) ORDER BY t.{pk}", [*h_params, new_ids])
        else:  # the target's rows above its largest id before this chunk
            cursor.execute(f"{insert} WHERE t.{contract} = %s AND t.{pk} > %s ORDER BY t.{pk}", [*h_params, target_id, before])
    _carry_chunk_written(written)
    return written, last


def _carry_chunk_written(rows: int) -> None:
    """Called after each chunk's statements, before its commit (a test breaks a chunk here)."""


@transaction.atomic
def enrollments_carry_forward(*, source: Contract, target: Contract, on: dt.date, chunk_size: int = 5000) -> int:
    """Enroll in `target` from `on` everyone in force in `source` at its end (a renewal that rolls
    last year's list forward), with the same area and attributes, at once and in one
    transaction (the renewal page enqueues `enrollment_carry_forward_start` instead). Written in
    bulk SQL with their history rows: each copy repeats an enrollment that passed its checks, in
    a contract of the same program (same region), starting within the new period, and `target`
    has no enrollment yet (a contract is activated once). Returns the number enrolled."""
    _carry_forward_checks(source=source, target=target, on=on)
    count, after = 0, 0
    while True:
        written, after = _carry_chunk(source=source, target_id=target.pk, on=on, after=after, chunk_size=chunk_size)
        if after is None:
            return count
        count += written


@transaction.atomic
def enrollment_carry_forward_start(*, source: Contract, target: Contract, on: dt.date, user) -> EnrollmentCarryForward:
    """Record a renewal's roll-forward and enqueue its job once the transaction commits."""
    # a function-level import: the tasks module imports this one
    from .tasks import enrollment_carry_forward_task

    _carry_forward_checks(source=source, target=target, on=on)
    if EnrollmentCarryForward.objects.filter(target=target).exists():
        raise ValidationError(gettext("This contract has enrollments already."))
    carry = EnrollmentCarryForward(source=source, target=target, enrolled_from=on, created_by=user,
                                   progress_total=_in_force_at_end(source).count())
    carry.full_clean()
    carry.save()
    enrollment_carry_forward_task.delay_on_commit(carry.pk)
    return carry


def enrollment_carry_forward_run(*, carry_id: int, chunk_size: int = 50_000) -> EnrollmentCarryForward | None:
    """The job: carry the enrollments forward chunk by chunk, each chunk committed with the
    advanced cursor and progress (the row is locked per chunk, so a redelivered task running
    beside a live one waits and then continues after it). A rerun after a crash resumes from
    the last committed chunk. Returns None when there is nothing to do (unknown or finished)."""
    carry = EnrollmentCarryForward.objects.select_related("source").filter(pk=carry_id).first()
    if carry is None or carry.finished:
        return None
    EnrollmentCarryForward.objects.filter(pk=carry_id).update(started_at=timezone.now(), error="")
    source = carry.source
    try:
        while True:
            with transaction.atomic():
                locked = EnrollmentCarryForward.objects.select_for_update().get(pk=carry_id)
                if locked.finished:
                    return None
                written, last = _carry_chunk(source=source, target_id=locked.target_id, on=locked.enrolled_from,
                                             after=locked.cursor, chunk_size=chunk_size)
                if last is None:
                    done = Enrollment.objects.filter(contract_id=locked.target_id).count()
                    EnrollmentCarryForward.objects.filter(pk=carry_id).update(
                        finished_at=timezone.now(), progress_done=done, progress_total=max(done, locked.progress_total))
                    break
                EnrollmentCarryForward.objects.filter(pk=carry_id).update(
                    cursor=last, progress_done=locked.progress_done + written)
    except Exception:
        logger.exception("carrying enrollments forward (%s) stopped", carry_id)
        EnrollmentCarryForward.objects.filter(pk=carry_id).update(
            error=gettext("Carrying the enrollments forward stopped; it resumes where it stopped when run again."))
        raise
    return EnrollmentCarryForward.objects.get(pk=carry_id)


@transaction.atomic
def benefit_plan_update(*, benefit_plan: BenefitPlan, rules: dict, reason: str = "") -> BenefitPlan:
    """Replace a contract's rules after the engine's own checks; bumps the version so every
    process drops its cached copy of the old plan."""

    locked = BenefitPlan.objects.select_for_update().get(pk=benefit_plan.pk)
    locked.rules = rules
    locked.full_clean()
    locked.version += 1
    locked.save()
    if reason:
        update_change_reason(locked, reason)
    return locked


# --- enrollment list imports (the registry at scale) ----------------------------------------

IMPORT_STALE_AFTER = dt.timedelta(minutes=10)

_B = ImportBatch.Status
#: An enrollment list's way (ImportBatch): the only place its status changes.
IMPORT_BATCH_STATES = StateMachine(ImportBatch, ImportBatchStatusChange, "batch", {
    _B.PENDING: {_B.VALIDATING, _B.FAILED},
    # VALIDATING -> VALIDATING: a worker that died while validating is replaced
    _B.VALIDATING: {_B.VALIDATING, _B.VALIDATED, _B.FAILED},
    # VALIDATED -> FAILED: not confirmed in time (import_stages_clean)
    _B.VALIDATED: {_B.APPLYING, _B.FAILED},
    # APPLYING -> APPLYING: a redelivered task takes up a dead worker's application;
    # APPLYING -> VALIDATED: an interrupted application is restarted (import_batch_retry)
    _B.APPLYING: {_B.APPLYING, _B.DONE, _B.FAILED, _B.VALIDATED},
    _B.DONE: set(),
    _B.FAILED: {_B.VALIDATED},  # restarted after a failure (import_batch_retry)
})


def _batch_progress(batch_id: int, **fields) -> None:
    """Progress of the validation (phase, bytes and rows read so far) in the import framework's
    progress store, where the page reads it as it reads the application's; the batch row gets
    the heartbeat only, committed at once, by which a batch whose worker died is taken over
    (IMPORT_STALE_AFTER)."""
    ImportBatch.objects.filter(pk=batch_id).update(heartbeat_at=timezone.now())
    told = import_progress.progress_read(VALIDATE_PROGRESS_KIND, batch_id)
    import_progress.progress_write(VALIDATE_PROGRESS_KIND, batch_id, {**told, **fields})


def _batch_fail(batch_id: int, message: str) -> None:
    def prepare(batch):
        batch.error = message
        batch.finished_at = batch.heartbeat_at = timezone.now()
        return ["error", "finished_at", "heartbeat_at"]

    IMPORT_BATCH_STATES.move_by_pk(batch_id, ImportBatch.Status.FAILED, message=message, prepare=prepare)


@transaction.atomic
def import_batch_create(
    *,
    user,
    contract: Contract,
    uploaded_file,
    effective_date: dt.date,
    mode: str = ImportBatch.Mode.FULL,
    source: str = ImportBatch.Source.GROUP,
) -> ImportBatch:
    """Store an uploaded list and queue its validation. A file that cannot be read at all
    (type, encoding, missing columns) is refused here and nothing is kept."""
    if not Contract.objects.for_user(user).filter(pk=contract.pk).exists():
        raise ValidationError(gettext("This contract is outside your areas."))
    if not (contract.period_start <= effective_date <= contract.period_end):
        raise ValidationError(
            {"effective_date": gettext("The effective date must lie within the contract period.")}
        )
    try:
        check_size(uploaded_file.size or 0)  # before the file is stored
    except ImportRefused as exc:
        raise ValidationError({"file": str(exc)}) from None
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    scope = area_scope_ids(user)
    batch = ImportBatch(
        contract=contract,
        created_by=user,
        mode=mode,
        source=source,
        effective_date=effective_date,
        file_name=os.path.basename(uploaded_file.name)[:255],
        file_sha256=digest.hexdigest(),
        file_size=uploaded_file.size or 0,
        scope_area_ids=None if scope is None else sorted(scope),
    )
    batch.file.save(batch.file_name, uploaded_file, save=False)
    try:
        _fmt, encoding = sniff_upload(batch.file.path, batch.file_name)
    except ImportRefused as exc:
        batch.file.delete(save=False)
        raise ValidationError({"file": str(exc)}) from None
    batch.encoding = encoding
    batch.full_clean()
    batch.save()
    IMPORT_BATCH_STATES.created(batch, by=user)
    # cycle: programs.tasks imports this module
    from .tasks import import_batch_validate_task

    import_batch_validate_task.delay_on_commit(batch.pk)
    return batch


def _row_context(batch: ImportBatch) -> RowContext:
    contract = batch.contract
    region = contract.program.region
    areas = Area.objects.filter(Q(pk=region.pk) | Q(parent=region)).filter(level=Area.Level.COUNTY)
    lookup: dict[str, int] = {}
    for area in areas:
        lookup[area.code] = area.pk
        lookup[area.name] = area.pk
    scope = None if batch.scope_area_ids is None else frozenset(batch.scope_area_ids)
    return RowContext(
        area_ids=lookup,
        scope=scope,
        period_start=contract.period_start,
        period_end=contract.period_end,
        effective_date=batch.effective_date,
        today=timezone.localdate(),
    )


def import_batch_validate(*, batch_id: int) -> ImportBatch | None:
    """Read and check the whole file into the batch's stage and rejected tables; nothing in the registry
    changes. Claimed under a row lock (a redelivered task finds nothing to do); a batch
    whose worker died while validating is taken up again after IMPORT_STALE_AFTER."""
    now = timezone.now()

    def prepare(batch):
        batch.attempts += 1
        batch.started_at = batch.heartbeat_at = now
        batch.phase = "reading"
        batch.error = ""
        batch.bytes_read = batch.rows_read = batch.rows_valid = batch.rows_rejected = 0
        return ["attempts", "started_at", "heartbeat_at", "phase", "error", "bytes_read", "rows_read", "rows_valid",
                "rows_rejected"]

    claimed = IMPORT_BATCH_STATES.claim(
        batch_id,
        Q(status=ImportBatch.Status.PENDING)
        | Q(status=ImportBatch.Status.VALIDATING, heartbeat_at__lt=now - IMPORT_STALE_AFTER),
        ImportBatch.Status.VALIDATING,
        prepare=prepare,
    )
    if claimed is None:
        return None
    import_progress.progress_write(VALIDATE_PROGRESS_KIND, batch_id, {"phase": "reading"})  # a taken-over batch starts afresh
    batch = ImportBatch.objects.select_related("contract__program__region").get(pk=batch_id)
    progress = partial(_batch_progress, batch_id)
    try:
        with translation.override(settings.LANGUAGE_CODE):
            texts = reasons()
            bulk.drop_tables(batch_id)
            ctx = _row_context(batch)
            from .registry import columnar  # Arrow and NumPy: loaded where lists are read

            path = batch.file.path
            if file_format(batch.file_name) == "csv":
                blocks = columnar.csv_blocks(path, batch.encoding, ctx, texts)
                raw_rows = partial(columnar.raw_rows, path, batch.encoding)
            else:
                blocks = columnar.xlsx_blocks(path, ctx, texts)
                raw_rows = partial(columnar.xlsx_raw_rows, path)
            bulk.load(batch_id=batch_id, blocks=blocks, progress=progress)
            progress(phase="checking")
            bulk.settle(batch_id=batch_id, texts=texts, raw_rows=raw_rows)
            total, rejected = bulk.counts(batch_id)
            report = bulk.rejected_csv(batch_id, gettext("reason"), gettext("line"))
    except ImportRefused as exc:
        bulk.drop_tables(batch_id)
        _batch_fail(batch_id, str(exc))
        return ImportBatch.objects.get(pk=batch_id)
    except Exception as exc:
        bulk.drop_tables(batch_id)
        _batch_fail(batch_id, gettext("Validation stopped: %(error)s") % {"error": exc})
        raise
    batch.refresh_from_db()
    if rejected:
        stem = os.path.splitext(batch.file_name)[0]
        batch.rejected_file.save(f"{stem}-rejected.csv", ContentFile(report), save=False)
    batch.rows_read, batch.rows_rejected, batch.rows_valid = total, rejected, total - rejected
    batch.bytes_read = batch.file_size
    batch.phase = ""
    batch.validated_at = batch.heartbeat_at = timezone.now()
    with transaction.atomic():
        IMPORT_BATCH_STATES.move(batch, ImportBatch.Status.VALIDATED)
    return batch


@transaction.atomic
def import_batch_confirm(*, batch: ImportBatch, user) -> ImportBatch:
    """The user accepts the rejected rows: queue the application of the valid ones."""
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status != ImportBatch.Status.VALIDATED or locked.confirmed_at is not None:
        raise ValidationError(gettext("Only a validated list can be confirmed, once."))
    if locked.rows_valid == 0:
        raise ValidationError(gettext("The list has no valid rows."))
    locked.confirmed_by = user
    locked.confirmed_at = timezone.now()
    locked.save(update_fields=["confirmed_by", "confirmed_at"])
    # cycle: programs.tasks imports this module
    from .tasks import import_batch_apply_task

    import_batch_apply_task.delay_on_commit(locked.pk)
    return locked


@transaction.atomic
def import_batch_retry(*, batch: ImportBatch, user) -> ImportBatch:
    """Run the application again after a failure or an interrupted worker: the registry is
    as before (the application is one transaction), the checked rows are still staged."""
    locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    retryable = locked.confirmed_at is not None and locked.validated_at is not None and (
        locked.status == ImportBatch.Status.FAILED or import_batch_interrupted(locked)
    )
    if not retryable or not bulk.stage_exists(locked.pk):
        raise ValidationError(gettext("This import cannot be restarted; upload the file again."))
    locked.error = ""
    IMPORT_BATCH_STATES.move(locked, ImportBatch.Status.VALIDATED, by=user, message=gettext("restarted"),
                             update_fields=["error"])
    # cycle: programs.tasks imports this module
    from .tasks import import_batch_apply_task

    import_batch_apply_task.delay_on_commit(locked.pk)
    return locked


def import_batch_apply(*, batch_id: int) -> ImportBatch | None:
    """Apply a confirmed batch in ONE transaction: persons, additions, dated changes, exits,
    superseded individual policies and the batch's own DONE all commit together, or nothing
    does (a killed worker leaves the registry as before; the batch can be restarted)."""
    def prepare(batch):
        batch.attempts += 1
        batch.apply_started_at = batch.heartbeat_at = timezone.now()
        return ["attempts", "apply_started_at", "heartbeat_at"]

    claimed = IMPORT_BATCH_STATES.claim(
        batch_id, Q(confirmed_at__isnull=False, status__in=[ImportBatch.Status.VALIDATED, ImportBatch.Status.APPLYING]),
        ImportBatch.Status.APPLYING, prepare=prepare,
    )
    if claimed is None:
        return None
    try:
        with transaction.atomic():
            # Held until commit: a second worker (a redelivered message) skips the batch,
            # and the status page can tell a running application from a dead one.
            batch = hold(ImportBatch, batch_id, ImportBatch.Status.APPLYING, related=["contract"])
            if batch is None:
                return None
            superseded = []
            has_individual = (
                Enrollment.objects.filter(contract_id=batch.contract_id, source=Enrollment.Source.INDIVIDUAL)
                .exclude(status=Enrollment.Status.CANCELLED)
                .exists()
            )
            if batch.source == ImportBatch.Source.GROUP and has_individual:
                for enrollment in Enrollment.objects.filter(
                    pk__in=bulk.individual_enrollments_to_supersede(batch.pk, batch.contract_id)
                ).select_related("person", "contract"):
                    enrollment_supersede(individual=enrollment, on=batch.effective_date, batch=batch)
                    superseded.append(enrollment.pk)
            result = bulk.apply(
                batch_id=batch.pk,
                contract_id=batch.contract_id,
                source=batch.source,
                effective_date=batch.effective_date,
                full_list=batch.mode == ImportBatch.Mode.FULL,
                scope=None if batch.scope_area_ids is None else frozenset(batch.scope_area_ids),
                step=_apply_progress(batch.pk),
                superseded=superseded,
            )
            batch.rows_added = result["added"]
            batch.rows_changed = result["changed"]
            batch.rows_exited = result["exited"]
            batch.rows_unchanged = result["unchanged"]
            batch.rows_superseded = len(superseded)
            batch.phase = ""
            batch.finished_at = batch.heartbeat_at = timezone.now()
            IMPORT_BATCH_STATES.move(batch, ImportBatch.Status.DONE)
            transaction.on_commit(lambda: bulk.drop_tables(batch_id))
    except Exception as exc:
        _batch_fail(
            batch_id,
            gettext("Application stopped, the registry is unchanged: %(error)s") % {"error": exc},
        )
        raise
    return batch


def import_stages_clean(*, now=None) -> list[int]:
    """Drop the staging tables nobody will use any more (beat runs this nightly).

    - a list validated but not confirmed within REGISTRY_STAGE_KEEP_DAYS is closed as failed
      (upload it again), its stage dropped;
    - a failed batch keeps its stage that long, so its application can be restarted;
    - a finished batch's tables, and tables whose batch no longer exists, go at once.
    Running batches are never touched. Returns the batch ids whose tables were dropped."""
    now = now or timezone.now()
    days = settings.REGISTRY_STAGE_KEEP_DAYS
    cutoff = now - dt.timedelta(days=days)
    dropped = []
    for batch_id in sorted(bulk.staged_batch_ids()):
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update(skip_locked=True).filter(pk=batch_id).first()
            if batch is None and ImportBatch.objects.filter(pk=batch_id).exists():
                continue  # held by a running step
            if batch is not None:
                unconfirmed = batch.status == ImportBatch.Status.VALIDATED and batch.confirmed_at is None
                stale_failure = batch.status == ImportBatch.Status.FAILED and (batch.finished_at or now) < cutoff
                if unconfirmed and batch.validated_at and batch.validated_at < cutoff:
                    batch.error = gettext(
                        "Not confirmed within %(days)d days: the checked rows were discarded. Upload the list again."
                    ) % {"days": days}
                    batch.finished_at = now
                    IMPORT_BATCH_STATES.move(batch, ImportBatch.Status.FAILED, message=batch.error,
                                             update_fields=["error", "finished_at"])
                elif not (stale_failure or batch.status == ImportBatch.Status.DONE):
                    continue
            bulk.drop_tables(batch_id)
            dropped.append(batch_id)
    return dropped


def _apply_step(name: str) -> None:
    """Hook between the application's statements (tests simulate a crash here)."""


def _apply_progress(batch_id: int) -> Callable[..., None]:
    """The engine's `step`: the statement under way, in the progress store for the progress
    page (the application is one transaction, its batch row locked: nothing else can tell),
    then the hook, once per step name. `done`/`total`: how far a step of several statements is."""
    hooked: set[str] = set()

    def step(name: str, done: int | None = None, total: int | None = None) -> None:
        import_progress.progress_write(APPLY_PROGRESS_KIND, batch_id, {"step": name, "done": done, "total": total})
        if name not in hooked:
            hooked.add(name)
            _apply_step(name)

    return step


# --- Beijing duplicate enrollment (DOMAIN.md §4.4) ------------------------------------------


@transaction.atomic
def enrollment_supersede(*, individual: Enrollment, on: dt.date, batch: ImportBatch | None = None,
                         group: Enrollment | None = None) -> SmsNotification:
    """A group enrollment wins over an individual policy for the same person and contract:
    cancel the individual policy as of `on` (recorded in its history) and queue one SMS."""
    locked = Enrollment.objects.select_for_update().select_related("person", "contract").get(pk=individual.pk)
    if locked.source != Enrollment.Source.INDIVIDUAL:
        raise ValidationError(gettext("Only an individual policy can be superseded."))
    if locked.status != Enrollment.Status.CANCELLED:
        locked.status = Enrollment.Status.CANCELLED
        locked.cancelled_on = on
        if group is not None:
            locked.superseded_by = group
        locked._change_reason = gettext("superseded by the group enrollment")
        locked.save()
    with translation.override(settings.LANGUAGE_CODE):
        message = gettext(
            "[%(program)s] Your group enrollment for %(year)s has been registered; your individual "
            "policy was cancelled automatically on %(date)s. No action is needed."
        ) % {"program": locked.contract.program.name, "year": locked.contract.year, "date": on.isoformat()}
    return sms_notification_queue(
        key=f"enrollment-superseded:{locked.pk}", person=locked.person, enrollment=locked, message=message
    )


@transaction.atomic
def sms_notification_queue(*, key: str, person: InsuredPerson, message: str,
                           enrollment: Enrollment | None = None) -> SmsNotification:
    """Queue an SMS once per key; sent by a task after this transaction commits."""
    notification, created = SmsNotification.objects.get_or_create(
        key=key, defaults={"person": person, "enrollment": enrollment, "phone": person.phone, "message": message}
    )
    if created:
        # cycle: programs.tasks imports this module
        from .tasks import sms_send_task

        sms_send_task.delay_on_commit(notification.pk)
    return notification


def sms_notification_send(*, notification_id: int) -> SmsNotification | None:
    """Send a queued SMS through the configured backend; never twice (row lock + status).

    A message the backend did not take for a passing reason (`SmsError.transient`: the gateway
    down, busy or slow) stays QUEUED with the error and one more attempt counted — the task
    tries again later — until `SMS_MAX_ATTEMPTS`; a final refusal, or the last attempt, FAILED."""
    with transaction.atomic():
        notification = (
            SmsNotification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, status=SmsNotification.Status.QUEUED)
            .first()
        )
        if notification is None:
            return None
        backend = get_backend()
        notification.backend = f"{type(backend).__module__}.{type(backend).__name__}"
        if not notification.phone:
            notification.status = SmsNotification.Status.FAILED
            notification.error = gettext("No mobile phone number on file.")
        else:
            notification.attempts += 1
            try:
                message_id = backend.send(notification.phone, notification.message, key=notification.key)
            except SmsError as exc:
                notification.error = str(exc)[:1000]
                if not exc.transient or notification.attempts >= settings.SMS_MAX_ATTEMPTS:
                    notification.status = SmsNotification.Status.FAILED
            except Exception as exc:  # the backend's own failure, kept for the operator
                notification.status = SmsNotification.Status.FAILED
                notification.error = str(exc)[:1000]
            else:
                notification.status = SmsNotification.Status.SENT
                notification.sent_at = timezone.now()
                notification.message_id = message_id or ""
                notification.error = ""
        notification.save()
    return notification


@transaction.atomic
def sms_notification_requeue(*, notification: SmsNotification) -> bool:
    """Try a FAILED message again from the start, to the person's mobile number as it is now
    (the operator may have added or corrected it, or the gateway is back); False when it is
    not failed any more."""
    locked = (
        SmsNotification.objects.select_for_update().select_related("person")
        .filter(pk=notification.pk, status=SmsNotification.Status.FAILED).first()
    )
    if locked is None:
        return False
    locked.status = SmsNotification.Status.QUEUED
    locked.attempts = 0
    locked.error = ""
    locked.phone = locked.person.phone
    locked.save(update_fields=["status", "attempts", "error", "phone"])
    # cycle: programs.tasks imports this module
    from .tasks import sms_send_task

    sms_send_task.delay_on_commit(locked.pk)
    return True


# --- headcount snapshots ----------------------------------------------------------------------


@transaction.atomic
def headcount_snapshot_take(*, contract: Contract, kind: str, as_of: dt.date | None = None, user=None) -> list[HeadcountSnapshot]:
    """Count the registry on the cut-off date per area, category and employment and store it
    with the premium it implies (replacing an earlier snapshot of the same kind)."""
    as_of = as_of or (
        contract.headcount_provisional_date if kind == HeadcountSnapshot.Kind.PROVISIONAL else contract.headcount_final_date
    )
    if as_of is None:
        raise ValidationError(gettext("The contract has no cut-off date for this headcount."))
    rates = list(contract.premium_rates.all())
    HeadcountSnapshot.objects.filter(contract=contract, kind=kind).delete()
    rows = []
    for (area_id, category, employment), count in sorted(headcount_on(contract=contract, on=as_of).items()):
        rate = premium_rate_for(rates, category, employment)
        premium = None if rate is None else headcount_premium({"k": rate}, {"k": count})
        rows.append(
            HeadcountSnapshot(
                contract=contract, kind=kind, as_of=as_of, area_id=area_id, category=category,
                employment=employment, headcount=count, per_capita=rate, premium=premium, taken_by=user,
            )
        )
    for row in rows:
        row.full_clean()
    return HeadcountSnapshot.objects.bulk_create(rows)


@transaction.atomic
def enrollment_list_row_apply(*, contract: Contract, row, effective_date: dt.date, source: str = "group",
                              reason: str = "") -> tuple[str, Enrollment]:
    """One checked row of a (small) list through the ORM, with the same meaning as the batch
    engine: a new person/enrollment, a dated change (the old state kept as a period), or
    nothing. Returns ("new" | "update" | "skip", enrollment). Audited by simple-history."""
    person = InsuredPerson.objects.filter(certno=row.certno).first()
    if person is None:
        person = person_create(certno=row.certno, name=row.name, psn_no=row.psn_no, reason=reason)
    elif changes := rule.person_changes(person.name, person.psn_no, row.name, row.psn_no):
        person.name, person.psn_no = changes["name"], changes["psn_no"]
        person.full_clean()
        person.save()
        if reason:
            update_change_reason(person, reason)
    enrollment = (
        Enrollment.objects.select_for_update()
        .filter(person=person, contract=contract)
        .exclude(status=Enrollment.Status.CANCELLED)
        .first()
    )
    if enrollment is not None and enrollment.source == Enrollment.Source.INDIVIDUAL and source == Enrollment.Source.GROUP:
        enrollment_supersede(individual=enrollment, on=effective_date)
        enrollment = None
    if enrollment is None:
        return "new", _enrollment_create_from_row(person, contract, row, source, reason, effective_date)
    decision = rule.decide(_held(enrollment), _listed(row), effective_date)
    if decision.kind == rule.Kind.UNCHANGED:
        return "skip", enrollment
    _decision_apply(enrollment, decision, reason)
    return "update", enrollment


@transaction.atomic
def enrollment_list_exits_apply(*, contract: Contract, listed_certnos: set[str], area_ids: set[int],
                                effective_date: dt.date, source: str = "group", reason: str = "") -> list[Enrollment]:
    """The exits of a complete list through the ORM, by the same rule as the batch engine: the
    contract's enrollments of `source` in `area_ids` whose person is not in `listed_certnos`
    (every ID number the list names, rejected rows included). Returns the enrollments ended."""
    ended = []
    candidates = (
        Enrollment.objects.select_for_update()
        .filter(contract=contract, source=source, area_id__in=area_ids, status__in=rule.IN_FORCE)
        .exclude(person__certno__in=listed_certnos)
        .order_by("pk")
    )
    for enrollment in candidates:
        decision = rule.decide(_held(enrollment), None, effective_date)
        if decision.kind == rule.Kind.EXIT:
            _decision_apply(enrollment, decision, reason)
            ended.append(enrollment)
    return ended


def _held(enrollment: Enrollment) -> rule.Held:
    return rule.Held(**{f: getattr(enrollment, f) for f in rule.Held.__dataclass_fields__})


def _listed(row) -> rule.Listed:
    return rule.Listed(**{f: getattr(row, f) for f in rule.Listed.__dataclass_fields__})


def _decision_apply(enrollment: Enrollment, decision: rule.Decision, reason: str) -> None:
    """A change or an exit (`rule.decide`) on the enrollment: its periods, then its fields."""
    for period in decision.periods:
        EnrollmentPeriod.objects.create(enrollment=enrollment, **period)
    for name, value in decision.values.items():
        setattr(enrollment, name, value)
    enrollment.full_clean()
    enrollment.save()
    if reason:
        update_change_reason(enrollment, reason)


def _enrollment_create_from_row(person, contract, row, source, reason, effective_date) -> Enrollment:
    values = dict(rule.decide(None, _listed(row), effective_date).values)
    return enrollment_create(
        person=person, contract=contract, area=Area.objects.get(pk=values.pop("area_id")),
        enrolled_from=values.pop("enrolled_from"), source=source, reason=reason, **values,
    )
