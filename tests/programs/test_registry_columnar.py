"""The column-by-column reading of CSV lists agrees with `rows.check_row` on every row.

`columnar.plainly_valid` may only accept rows that `check_row` accepts, with the same checked
values; `columnar.check_block` (fast rows plus `check_row` for the rest) must give exactly
`check_row`'s reason or values for every row. Hypothesis mixes valid rows with the awkward
values a platform export or a hand-edited file contains.
"""

import datetime as dt

import pyarrow as pa
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from programs.identity import normalize_certno, with_check_char
from programs.registry import columnar
from programs.registry.files import FIELDS
from programs.registry.rows import RowContext, check_row, reasons
from tests.factories import certno_for

AREAS = {"150502": 11, "150523": 12, "科尔沁区": 11}
CTX = RowContext(area_ids=AREAS, scope=None, period_start=dt.date(2025, 1, 1), period_end=dt.date(2025, 12, 31),
                 effective_date=dt.date(2025, 3, 1), today=dt.date(2026, 11, 22))
SCOPED = RowContext(**{**CTX.__dict__, "scope": frozenset({12})})


@pytest.fixture(scope="module")
def texts():
    with translation.override("zh-hans"):
        return reasons()


def base_row(seq: int, birth: dt.date, area: str) -> dict:
    certno = certno_for(area, birth, seq)
    return {
        "psn_no": f"1505{seq:010d}", "certno": certno, "psn_name": "包宝山",
        "gend": "1" if int(certno[16]) % 2 else "2", "brdy": birth.isoformat(), "admdvs": area,
        "psn_type": "普通", "emp_type": "在职", "psn_insu_stas": "1", "begndate": "", "enddate": "",
    }


AWKWARD = {
    "psn_no": ["", " 15050001", "P-1", "１５０５", "x" * 31, "A1B2"],
    "certno": ["", "150502198003010011", with_check_char("99050219800301001"), "15050219800301001x", "15050219800230001X", " 150502198003010011",
               "1505021980030100１1", "990502198003010011", "150502202612310011", "15050218800301001X",
               "150502 198003010011"],
    "psn_name": ["", " 王伟", "王伟 ", "John Smith", "阿·巴特尔", "王" * 61, "王" * 60, "\u3000王伟"],
    "gend": ["", "男", "女", "M", " 1", "3", "2"],
    "brdy": ["", "1980-03-01", "19800301", "1980/03/01", "1980-3-1", "1980-02-30", " 1980-03-01",
             "2030-01-01", "１９８０-03-01"],
    "admdvs": ["", "150502", "150523", "科尔沁区", "999999", " 150502"],
    "psn_type": ["", "特困", "ORDINARY", "普通 ", "其他", "2"],
    "emp_type": ["", "退休", "3", " 在职", "Retired"],
    "psn_insu_stas": ["", "4", "2", "终止参保", "9", "TERMINATED"],
    "begndate": ["", "2025-02-01", "20250201", "2024-12-01", "2026-01-01", "2025-02-30", " 2025-02-01", "-"],
    "enddate": ["", "2025-06-30", "2025-12-31", "2026-03-01", "2025-01-15", "2025-13-01", " 2025-06-30", "/"],
}


@st.composite
def rows(draw):
    seq = draw(st.integers(0, 999))
    birth = draw(st.dates(dt.date(1900, 1, 1), dt.date(2026, 11, 22)))
    row = base_row(seq, birth, draw(st.sampled_from(["150502", "150523"])))
    for field in draw(st.sets(st.sampled_from(FIELDS), max_size=3)):
        row[field] = draw(st.sampled_from(AWKWARD[field]))
    return row


def as_columns(batch: list[dict]) -> dict[str, pa.Array]:
    return {f: pa.array([r[f] for r in batch], pa.string()) for f in FIELDS}


def expected(row: dict, ctx, texts):
    return check_row(tuple(row[f].strip() for f in FIELDS), ctx, texts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(rows(), min_size=1, max_size=40), scoped=st.booleans())
def test_every_row_gets_check_rows_answer(batch, scoped, texts):
    ctx = SCOPED if scoped else CTX
    ok, _values = columnar.plainly_valid(as_columns(batch), ctx)
    table = columnar.check_block(as_columns(batch), 2, ctx, texts).to_pylist()
    assert [r["line_no"] for r in table] == list(range(2, 2 + len(batch)))  # in line order
    by_line = {r["line_no"]: r for r in table}
    for i, row in enumerate(batch):
        reason, checked = expected(row, ctx, texts)
        got = by_line[2 + i]
        assert {f: got[f] for f in FIELDS} == row  # raw values kept for the report
        if checked is None:
            assert not ok[i]
            assert got["reason"] == reason
            assert got["c_certno"] == normalize_certno(row["certno"])
            assert got["area_id"] is None and got["enrolled_from"] is None
        else:
            assert got["reason"] is None
            assert (got["c_certno"], got["c_psn_no"], got["c_name"], got["sex"], got["birth_date"], got["area_id"],
                    got["category"], got["category_detail"], got["employment"], got["status"],
                    got["enrolled_from"], got["enrolled_to"]) == (
                checked.certno, checked.psn_no, checked.name, checked.sex, checked.birth_date, checked.area_id,
                checked.category, checked.category_detail, checked.employment, checked.status,
                checked.enrolled_from, checked.enrolled_to)


def test_the_usual_shape_is_decided_column_by_column(texts):
    """Not everything may fall back to check_row: the platform's usual rows take the fast path."""
    batch = [base_row(i, dt.date(1950, 1, 1) + dt.timedelta(days=97 * i), "150502") for i in range(50)]
    batch[1].update(psn_type="特困", emp_type="退休", begndate="20250201")
    batch[2].update(psn_insu_stas="4", enddate="")  # terminated without a date: ends the day before the effective date, not before its start
    batch[3].update(enddate="2025-12-31")  # the period's last day: open-ended
    batch[4].update(brdy=batch[4]["brdy"].replace("-", "/"))
    ok, _values = columnar.plainly_valid(as_columns(batch), CTX)
    assert ok.all()
    table = {r["line_no"]: r for r in columnar.check_block(as_columns(batch), 2, CTX, texts).to_pylist()}
    assert (table[3]["category"], table[3]["category_detail"], table[3]["employment"], table[3]["enrolled_from"]) == (
        "special", "特困", "retired", dt.date(2025, 2, 1))
    assert (table[4]["status"], table[4]["enrolled_to"]) == ("terminated", dt.date(2025, 3, 1))
    assert table[5]["enrolled_to"] is None
    assert table[2]["enrolled_from"] == dt.date(2025, 3, 1)


@pytest.mark.parametrize(("field", "value"), [
    ("certno", "lower-case x"),
    ("psn_name", " 王伟"),
    ("psn_name", "John Smith"),
    ("brdy", "１９８０-03-01"),
    ("certno", "150502198003010012"),
    ("brdy", "1980-02-30"),
])
def test_unusual_rows_are_left_to_check_row(field, value, texts):
    row = base_row(1, dt.date(1980, 3, 1), "150502")
    assert row["certno"].endswith("X")
    if value == "lower-case x":
        value = row["certno"].lower()
    row[field] = value
    ok, _values = columnar.plainly_valid(as_columns([row]), CTX)
    assert not ok[0]
    got = columnar.check_block(as_columns([row]), 2, CTX, texts).to_pylist()[0]
    reason, checked = expected(row, CTX, texts)
    assert got["reason"] == reason
    assert (got["c_name"], got["c_certno"]) == ((checked.name, checked.certno) if checked else (None, got["c_certno"]))
    if value == "150502198003010012":
        assert reason == "身份证号校验位错误。"  # never the right digit


def test_progress_is_written_once_per_interval_and_always_at_the_end(texts, monkeypatch):
    monkeypatch.setattr(columnar, "PROGRESS_EVERY", 3600)
    blocks = [base_row(i, dt.date(1950, 1, 1) + dt.timedelta(days=i), "150502") for i in range(9)]
    blocks[4]["gend"] = "9"  # one rejected row
    checked = [(columnar.check_block(as_columns(blocks[k:k + 3]), 2 + k, CTX, texts), 100 * (k + 3))
               for k in (0, 3, 6)]
    written, told = [], []
    columnar.load(blocks=iter(checked), write=lambda good, bad: written.append((good.num_rows, bad.num_rows)),
                  progress=lambda **fields: told.append(fields))
    assert written == [(3, 0), (2, 1), (3, 0)]
    assert told == [{"rows_read": 3, "rows_valid": 3, "rows_rejected": 0, "bytes_read": 300},
                    {"rows_read": 9, "rows_valid": 8, "rows_rejected": 1, "bytes_read": 900}]
