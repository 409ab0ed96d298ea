"""The finance page (upload → preview → confirm → totals), the admin import through
django-import-export, permissions and area scoping."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from claims import imports
from claims.models import HospitalBatch, Settlement
from programs.models import Area, Contract
from tests.claims.hospital_files import (
    csv_bytes,
    media_root,  # noqa: F401 (autouse)
    tongliao_row,
    upload,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance(db):
    return UserFactory(username="fin", role="finance", area_codes=["150500"])


@pytest.fixture
def persons(db):
    horqin = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    kailu = EnrollmentFactory(person=PersonFactory(name="白其其格", area_code="150523"), area=Area.objects.get(code="150523")).person
    return horqin, kailu


def rows(persons):
    return [tongliao_row("S1", persons[0]), tongliao_row("S2", persons[1], inscp="70000.00", hifmi="15000.00")]


def post_upload(client, data: bytes, name="2025-03.csv"):
    contract = Contract.objects.get(code="tongliao-2025")
    return client.post(reverse("hospital_batch_upload"), {
        "contract": contract.pk, "month": "2025-03", "reported_on": "2025-04-05", "file": upload(data, name)})


def test_finance_uploads_previews_confirms_and_sees_the_payable(client, finance, persons):
    client.force_login(finance)
    response = post_upload(client, csv_bytes(rows(persons), encoding="gbk"))
    batch = HospitalBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("hospital_batch_detail", args=[batch.pk])
    page = client.get(response.url).content.decode()
    assert "校验通过，待确认" in page and "已校验 2 行，无错误：新增结算记录 2 条，已导入且未变化 0 条。" in page
    assert "包**" in page and "包宝山" not in page  # finance may not see full identities
    assert not Settlement.objects.exists()
    response = client.post(reverse("hospital_batch_confirm", args=[batch.pk]))
    assert response.status_code == 302
    page = client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()
    assert re.search(r'id="payable">19,800\.00<', page), page
    assert re.search(r'id="due">2025-04-30<', page)
    assert "S2" in page.split('id="differences"')[1]  # engine 16,600.00 vs platform 15,000.00
    assert Settlement.objects.count() == 2
    listing = client.get(reverse("hospital_batch_list")).content.decode()
    assert "通辽市医院" in listing and "19,800.00" in listing


def test_a_refused_file_shows_the_chinese_error_list(client, finance, persons):
    client.force_login(finance)
    bad = rows(persons)
    bad[1]["medfee_sumamt"] = "abc"
    post_upload(client, csv_bytes(bad))
    batch = HospitalBatch.objects.get()
    page = client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()
    assert "文件被拒绝：共 1 个错误，未保存任何数据。" in page
    assert re.search(r'<td class="num">3</td><td class="mono">medfee_sumamt（医疗费总额）</td><td>“abc”不是金额。</td>', page)
    assert 'id="confirm-import"' not in page
    assert client.post(reverse("hospital_batch_confirm", args=[batch.pk])).status_code == 302
    assert HospitalBatch.objects.get().status == "refused" and not Settlement.objects.exists()


def test_the_progress_endpoint_reports_state_for_the_bar(client, finance, persons):
    client.force_login(finance)
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(csv_bytes(rows(persons))), user=finance)
    url = reverse("hospital_batch_progress", args=[batch.pk])
    assert client.get(url).json() == {"status": "pending", "status_label": "已上传", "running": True, "phase": "",
                                      "phase_label": "", "done": 0, "total": 0, "percent": 0}
    assert 'id="progress-bar"' in client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()
    imports.batch_validate(batch.pk)
    assert client.get(url).json() == {"status": "validated", "status_label": "校验通过，待确认", "running": False,
                                      "phase": "validated", "phase_label": "校验完成", "done": 2, "total": 2, "percent": 100}


@pytest.mark.parametrize(("role", "listing", "upload_page"), [
    ("caseworker", 403, 403), ("supervisor", 200, 403), ("reviewer", 200, 200), ("finance", 200, 200)])
def test_permissions_by_role(client, role, listing, upload_page):
    user = UserFactory(role=role, area_codes=["150500"])
    client.force_login(user)
    assert client.get(reverse("hospital_batch_list")).status_code == listing
    assert client.get(reverse("hospital_batch_upload")).status_code == upload_page


def test_only_reviewers_record_deductions(client, finance, persons):
    batch = _done_batch(finance, persons)
    client.force_login(finance)
    url = reverse("hospital_batch_deduction_add", args=[batch.pk])
    assert client.post(url, {"d-setl_id": "S1", "d-amount": "100.00", "d-reason": "x"}).status_code == 403
    reviewer = UserFactory(username="rev2", role="reviewer", area_codes=["150500"])
    client.force_login(reviewer)
    assert client.post(url, {"d-setl_id": "S1", "d-amount": "100.00", "d-reason": "不合规耗材"}).status_code == 302
    deduction = batch.deductions.get()
    confirm = reverse("hospital_batch_deduction_confirm", args=[batch.pk, deduction.pk])
    for party in ("hospital", "authority", "insurer"):
        client.post(confirm, {"party": party, "on": "2025-04-20"})
    batch.refresh_from_db()
    assert str(batch.payable_total) == "19700.00"
    url = reverse("hospital_batch_recovery_add", args=[batch.pk])
    client.post(url, {"r-setl_id": "S2", "r-amount": "50.00", "r-reason": "重复收费", "r-found_on": "2025-05-06"})
    assert "重复收费" in client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()


def _done_batch(user, persons):
    batch = imports.batch_upload(contract=Contract.objects.get(code="tongliao-2025"), month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(csv_bytes(rows(persons))), user=user)
    imports.batch_validate(batch.pk)
    imports.batch_confirm(batch=batch, user=user)
    return imports.batch_apply(batch.pk)


def test_batches_and_their_rows_are_scoped_to_the_users_areas(client, finance, persons):
    batch = _done_batch(finance, persons)
    taikang_finance = UserFactory(username="fin_tk", role="finance", area_codes=["411600"])
    client.force_login(taikang_finance)
    assert client.get(reverse("hospital_batch_detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("hospital_batch_progress", args=[batch.pk])).status_code == 404
    assert "通辽市医院" not in client.get(reverse("hospital_batch_list")).content.decode()
    # a reviewer of 科尔沁区 sees the batch (the hospital serves the region) but only its own county's rows
    horqin = UserFactory(username="rev_hq", role="reviewer", area_codes=["150502"])
    client.force_login(horqin)
    page = client.get(reverse("hospital_batch_detail", args=[batch.pk])).content.decode()
    assert "S2" not in page.split('id="differences"')[1].split("</section>")[0]
    url = reverse("hospital_batch_deduction_add", args=[batch.pk])
    client.post(url, {"d-setl_id": "S2", "d-amount": "100.00", "d-reason": "x"})
    assert not batch.deductions.exists()  # S2 is a 开鲁县 settlement


def test_a_county_user_cannot_import_other_counties_rows(client, persons):
    kailu = UserFactory(username="rev_kl", role="reviewer", area_codes=["150523"])
    client.force_login(kailu)
    post_upload(client, csv_bytes(rows(persons)))
    batch = HospitalBatch.objects.get()
    assert batch.status == "refused"
    assert imports.rendered_errors(batch.errors)[0]["message"] == "参保人所属区域 科尔沁区 不在您的管辖范围内。"


def test_the_admin_import_previews_row_errors_then_imports_on_confirm(client, finance, persons):
    client.force_login(finance)
    contract = Contract.objects.get(code="tongliao-2025")
    url = reverse("admin:claims_settlement_import")
    bad = rows(persons)
    bad[0]["hifmi_pay"] = "-3"
    response = client.post(url, {"format": "0", "contract": contract.pk, "month": "2025-03",
                                 "import_file": upload(csv_bytes(bad, encoding="gbk"))})
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 1 and invalid.error_dict == {"hifmi_pay": ["金额 -3 为负数。"]}
    assert "process_import" not in response.content.decode() or "confirm_form" not in response.context
    assert not Settlement.objects.exists()

    response = client.post(url, {"format": "0", "contract": contract.pk, "month": "2025-03",
                                 "import_file": upload(csv_bytes(rows(persons), encoding="gbk"))})
    assert not response.context["result"].has_validation_errors(), response.context["result"].invalid_rows
    confirm = response.context["confirm_form"]
    assert not Settlement.objects.exists()  # the preview saved nothing
    response = client.post(reverse("admin:claims_settlement_process_import"), confirm.initial)
    assert response.status_code == 302
    assert sorted(Settlement.objects.values_list("setl_id", flat=True)) == ["S1", "S2"]
    batch = HospitalBatch.objects.get()
    assert (batch.status, batch.file_format, batch.created_count, batch.fixmedins_name) == ("done", "admin", 2, "通辽市医院")
    assert (str(batch.platform_total), str(batch.engine_total), batch.differing_count) == ("19800.00", "21400.00", 1)
    assert batch.log.get().summary["via"] == "admin"

    # the same file again: previewed as skipped rows, nothing new
    response = client.post(url, {"format": "0", "contract": contract.pk, "month": "2025-03",
                                 "import_file": upload(csv_bytes(rows(persons)))})
    assert response.context["result"].totals["skip"] == 2


def test_the_admin_import_needs_the_import_permission(client, persons):
    supervisor = UserFactory(username="sup2", role="supervisor", area_codes=["150500"])
    client.force_login(supervisor)
    assert client.get(reverse("admin:claims_settlement_import")).status_code == 403
