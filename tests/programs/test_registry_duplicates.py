"""Duplicates inside a list: marked while the file is read (`registry.duplicates`), settled
exactly at the end (`bulk.settle`).

The rules, as the old whole-file SQL applied them and as a reference here restates them: among
the rows that pass the row checks, a later line with an ID number seen before is a duplicate of
the first such line; among the rows left, a later line with a person number seen before is
rejected with the first such line. Person numbers are hashed while reading, so the same lists
are also run with every person number colliding: the answer must not change.
"""

import csv
import datetime as dt
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs import services
from programs.models import InsuredPerson
from programs.registry import columnar
from programs.registry.duplicates import SeenKeys
from tests.factories import UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, upload, xlsx_bytes


@given(blocks=st.lists(st.lists(st.integers(-50, 50), max_size=30), max_size=30))
def test_seen_keys_is_a_set(blocks):
    seen, reference = SeenKeys(), set()
    SeenKeys.MAX_RUN = 16  # many runs, merges capped
    try:
        for block in blocks:
            keys = np.array(sorted(set(block)), dtype=np.int64)
            assert seen.contains(keys).tolist() == [k in reference for k in keys.tolist()]
            new = keys[~seen.contains(keys)]
            seen.add(new)
            reference |= set(new.tolist())
            assert len(seen) == len(reference)
            assert all((np.diff(run) > 0).all() for run in seen.runs)
    finally:
        SeenKeys.MAX_RUN = 1 << 19


def expected_rejections(rows: list[dict]) -> dict[int, str]:
    """The reference: line -> reason, for rows that pass the row checks (all rows here)."""
    by_certno, reasons = {}, {}
    for line, row in enumerate(rows, start=2):
        if row["certno"] in by_certno:
            reasons[line] = f"与本文件第{by_certno[row['certno']]}行重复。"
        else:
            by_certno[row["certno"]] = line
    by_psn_no = {}
    for line, row in enumerate(rows, start=2):
        if line in reasons or not row["psn_no"]:
            continue
        if row["psn_no"] in by_psn_no:
            reasons[line] = f"人员编号{row['psn_no']}已在第{by_psn_no[row['psn_no']]}行用于另一身份证号码。"
        else:
            by_psn_no[row["psn_no"]] = line
    return reasons


def rejected(batch) -> dict[int, tuple[list[str], str]]:
    if not batch.rejected_file:
        return {}
    text = batch.rejected_file.open("rb").read().decode("utf-8-sig")
    return {int(r[0]): (r[1:-1], r[-1]) for r in list(csv.reader(io.StringIO(text)))[1:]}


# A small pool of persons and person numbers, so that both kinds of repeats are frequent.
PERSONS = st.lists(st.tuples(st.integers(1, 6), st.sampled_from(["", "P1", "P2", "P3", "1505000001", "长号码" * 2])),
                   min_size=1, max_size=25)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=PERSONS, collide=st.booleans(), fmt=st.sampled_from(["csv", "xlsx"]))
def test_duplicates_are_rejected_exactly_as_the_rules_say(people, collide, fmt, tmp_path_factory, monkeypatch):
    from django.conf import settings as django_settings

    user = UserFactory(is_superuser=True)
    rows = [person_row(seq, psn_no=psn_no) for seq, psn_no in people]
    data = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows)
    with monkeypatch.context() as patch:  # per example
        patch.setattr(django_settings, "MEDIA_ROOT", str(tmp_path_factory.mktemp("media")))
        if collide:  # every person number hashes alike: all of them become candidates
            patch.setattr(columnar, "_psn_no_keys", lambda arr: np.zeros(len(arr), dtype=np.int64))
        batch = services.import_batch_validate(batch_id=upload(user, data, name=f"list.{fmt}").pk)
    want = expected_rejections(rows)
    got = rejected(batch)
    assert {line: reason for line, (_raw, reason) in got.items()} == want
    for line, (raw, _reason) in got.items():  # raw values in the report, as in the file
        assert raw == [str(rows[line - 2][h]) for h in ("psn_no", "certno", "psn_name", "gend", "brdy", "admdvs",
                                                        "psn_type", "emp_type", "psn_insu_stas", "begndate",
                                                        "enddate")]
    assert (batch.rows_read, batch.rows_valid, batch.rows_rejected) == (len(rows), len(rows) - len(want), len(want))
    services.bulk.drop_tables(batch.pk)


@pytest.mark.django_db
def test_a_person_number_of_someone_else_in_the_registry_is_rejected_with_its_raw_values(tmp_path, settings):
    """Found only at the end (it needs the registry): the row's raw values are read again from
    the file for the report."""
    settings.MEDIA_ROOT = tmp_path
    InsuredPerson.objects.create(certno=person_row(9)["certno"], psn_no="P9", name="王五", sex="1",
                                 birth_date=dt.date(1980, 3, 1))
    taken = person_row(2, psn_no="P9", brdy="19800301")
    taken["gend"] = {"1": "男", "2": "女"}[taken["gend"]]  # raw values that differ from the checked ones
    rows = [person_row(1, psn_no="P1"), taken, person_row(3)]
    batch = services.import_batch_validate(batch_id=upload(UserFactory(is_superuser=True), csv_bytes(rows)).pk)
    assert (batch.rows_read, batch.rows_valid, batch.rows_rejected) == (3, 2, 1)
    raw, reason = rejected(batch)[3]
    assert reason == "人员编号P9已属于登记册中的另一人。"
    assert raw[:5] == ["P9", taken["certno"], "张三", taken["gend"], "19800301"]
    services.bulk.drop_tables(batch.pk)
