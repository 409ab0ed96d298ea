"""Batches change status only through their state machine (insurance_admin/core/transitions.py),
which checks the table and writes one status-change row per move (issue 18 item 3)."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from claims.imports.batches import HOSPITAL_BATCH_STATES
from claims.models import HospitalBatch, HospitalBatchStatusChange
from insurance_admin.core.transitions import StateMachine, TransitionRefused
from programs.models import ImportBatch, ImportBatchStatusChange
from programs.services import IMPORT_BATCH_STATES

ROOT = Path(__file__).resolve().parents[2]


def test_every_status_has_a_row_and_only_statuses_are_named():
    for machine in (IMPORT_BATCH_STATES, HOSPITAL_BATCH_STATES):
        assert set(machine.table) == {v for v, _ in machine.model.Status.choices}
    with pytest.raises(ValueError, match="every status"):
        StateMachine(ImportBatch, ImportBatchStatusChange, "batch", {"pending": {"done"}})


def test_finished_batches_never_move_again():
    assert IMPORT_BATCH_STATES.table["done"] == frozenset()
    assert HOSPITAL_BATCH_STATES.table["done"] == frozenset()
    assert HOSPITAL_BATCH_STATES.table["refused"] == frozenset()


def test_a_refused_move_names_both_states_in_chinese():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as exc:
        HOSPITAL_BATCH_STATES.check("done", "applying")
    assert isinstance(exc.value, ValidationError)
    assert exc.value.messages == ["状态为“已导入”的批次不能变为“导入中”。"]


@pytest.mark.django_db(transaction=True)
def test_a_move_outside_a_transaction_is_refused():
    batch = HospitalBatch(status="pending")
    with pytest.raises(RuntimeError, match="inside the transaction"):
        HOSPITAL_BATCH_STATES.move(batch, "validating")


_ASSIGN = re.compile(r"\.status\s*=[^=]|\.update\([^)]*\bstatus\s*=")


def test_no_batch_status_is_assigned_outside_its_machine():
    """The two batch services assign no status by hand (creation marked `status-ok`)."""
    offenders = []
    for path in [ROOT / "programs" / "services.py", ROOT / "claims" / "imports" / "batches.py",
                 *(ROOT / "programs" / "registry").glob("*.py"), *(ROOT / "claims" / "imports").glob("*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "status-ok" in line or not _ASSIGN.search(line):
                continue
            if "batch" in line.lower() or "claimed" in line or "locked." in line and "ImportBatch" in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.django_db
def test_a_hospital_file_leaves_one_status_row_per_move_and_a_redelivery_adds_none(settings, tmp_path):
    import datetime as dt

    from claims import imports
    from claims.tasks import apply_hospital_batch, validate_hospital_batch
    from programs.models import Contract
    from tests.claims.hospital_files import csv_bytes, tongliao_row, upload
    from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

    settings.MEDIA_ROOT = str(tmp_path)
    user = UserFactory(username="fin", role="finance", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 user=user, uploaded_file=upload(csv_bytes([tongliao_row("S1", person)])))
    validate_hospital_batch(batch.pk)
    validate_hospital_batch(batch.pk)  # redelivered: nothing to claim, no row
    imports.batch_confirm(batch=batch, user=user)
    apply_hospital_batch(batch.pk)
    apply_hospital_batch(batch.pk)
    rows = list(HospitalBatchStatusChange.objects.filter(batch=batch).values_list("from_status", "to_status", "by__username"))
    assert rows == [("", "pending", "fin"), ("pending", "validating", None), ("validating", "validated", None),
                    ("validated", "applying", None), ("applying", "done", None)]
    with pytest.raises(ValidationError):  # only a failed file is retried
        imports.batch_retry(batch=HospitalBatch.objects.get(pk=batch.pk), user=user)


def test_check_constraints_on_choices_are_built_from_the_choices():
    """A `<field>__in` check constraint lists exactly its field's choices (issue 18 item 4):
    adding a status to the enum changes the constraint, never leaves it behind."""
    from django.apps import apps

    checked = 0
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            condition = getattr(constraint, "condition", None)
            for child in getattr(condition, "children", []) if condition is not None else []:
                if not isinstance(child, tuple) or not child[0].endswith("__in") or "__" in child[0][:-4]:
                    continue
                field = model._meta.get_field(child[0][:-4])
                if field.choices and constraint.name.endswith("_valid"):
                    assert list(child[1]) == [v for v, _ in field.flatchoices], (model.__name__, constraint.name)
                    checked += 1
    assert checked >= 30
