"""The window's claim pages through the real views: registration form, list with filters and
masked export, detail actions, extension, the one-time notice PDF; scoping and permissions."""

import csv
import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from claims.models import Claim
from claims.registration import requirements_for
from programs.models import Contract
from tests.claims.test_claim_registration import _register

pytestmark = pytest.mark.django_db
S = Claim.Status


def _form_data(contract, documents, **overrides):
    data = {
        "c-claim_kind": "inpatient", "c-place": "in_region", "c-fixmedins_code": "H150502001", "c-fixmedins_name": "通辽市医院",
        "c-hosp_lv": "3", "c-begndate": "2025-02-20", "c-enddate": "2025-03-02", "c-received_on": "2025-03-05",
        "c-payee_name": "", "c-bank_name": "中国农业银行通辽分行", "c-bank_account": "6228480000000000000",
        "c-documents": [str(r.pk) for r in documents],
        "r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20",
        "r-0-setl_id": "M-100", "r-0-medfee_sumamt": "52000.00", "r-0-inscp_scp_amt": "52000.00", "r-0-hifp_pay": "30000.00",
    }
    data.update(overrides)
    return data


def test_caseworker_registers_a_claim_through_the_form(client, caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    url = reverse("claim_register", args=[horqin_person.pk, contract.code])
    page = client.get(url)
    assert page.status_code == 200 and "登记理赔" in page.text and "异地就医备案或转诊证明" in page.text
    docs = requirements_for(program=contract.program, claim_kind="inpatient", place="in_region")
    response = client.post(url, _form_data(contract, docs))
    claim = Claim.objects.get()
    assert response.status_code == 302 and response.url == reverse("claim_detail", args=[claim.pk])
    assert claim.status == S.DOCUMENTS_COMPLETE and claim.due_date == dt.date(2025, 3, 19)
    assert claim.payee_name == horqin_person.name and claim.settlements.get().hosp_lv == "3"
    detail = client.get(response.url)
    assert "2025-03-19" in detail.text and "材料齐全之日起 10 个工作日（一般）" in detail.text


def test_refusal_is_shown_on_the_form_with_a_link(client, caseworker, horqin_person):
    first = _register(caseworker, horqin_person)
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    response = client.post(reverse("claim_register", args=[horqin_person.pk, contract.code]),
                           _form_data(contract, [], **{"r-0-setl_id": "M-001"}))
    assert response.status_code == 200
    assert "结算ID M-001 已登记于理赔" in response.text
    assert f'href="/claims/{first.pk}/"' in response.text
    assert Claim.objects.count() == 1


def test_supervisor_and_reviewer_cannot_register(client, supervisor, reviewer, horqin_person):
    for user in (supervisor, reviewer):
        client.force_login(user)
        assert client.get(reverse("claim_register", args=[horqin_person.pk, "tongliao-2025"])).status_code == 403


def test_caseworker_of_another_county_neither_lists_nor_opens_the_claim(client, caseworker, caseworker_kailu, horqin_person):
    claim = _register(caseworker, horqin_person)
    client.force_login(caseworker_kailu)
    assert claim.claim_no not in client.get(reverse("claim_list")).text
    assert client.get(reverse("claim_detail", args=[claim.pk])).status_code == 404
    assert client.get(reverse("claim_notice", args=[claim.pk])).status_code == 404
    assert client.post(reverse("claim_transition", args=[claim.pk]), {"to": "withdrawn", "reason": "x"}).status_code == 404
    client.force_login(caseworker)
    assert claim.claim_no in client.get(reverse("claim_list")).text


def test_list_filters_by_status_overdue_and_amount(client, caseworker, horqin_person):
    done = _register(caseworker, horqin_person)  # due 2025-03-19: overdue today
    later = _register(caseworker, horqin_person, records=[{"setl_id": "M-2", "medfee_sumamt": Decimal("9000"),
                                                             "inscp_scp_amt": Decimal("9000"), "hifp_pay": Decimal("5000")}],
                      documents=[])
    client.force_login(caseworker)
    url = reverse("claim_list")
    assert done.claim_no in client.get(url, {"overdue": "true"}).text
    assert later.claim_no not in client.get(url, {"overdue": "true"}).text
    registered = client.get(url, {"status": "registered"}).text
    assert later.claim_no in registered and done.claim_no not in registered
    from claims.workflow import claim_transition

    claim_transition(claim=done, to=S.CALCULATED, user=caseworker)  # trial 4,800.00
    assert done.claim_no in client.get(url, {"amount_min": "4800"}).text
    assert done.claim_no not in client.get(url, {"amount_min": "4800.01"}).text


def test_export_masks_identities(client, caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)
    client.force_login(caseworker)  # a caseworker sees full IDs on screen, never in an export
    response = client.get(reverse("claim_list"), {"export": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["理赔编号"] for r in rows] == [claim.claim_no]
    assert rows[0]["身份证号"] == horqin_person.certno[:4] + "*" * 10 + horqin_person.certno[-4:]
    assert rows[0]["参保人"] == "包**" and rows[0]["办结时限"] == "2025-03-19"
    xlsx = client.get(reverse("claim_list"), {"export": "xlsx"})
    assert xlsx.content[:2] == b"PK"


def test_reviewer_approves_on_the_detail_page_and_the_amount_is_fixed(client, caseworker, reviewer, horqin_person):
    claim = _register(caseworker, horqin_person)
    from claims.workflow import claim_transition

    claim_transition(claim=claim, to=S.CALCULATED, user=caseworker)
    claim_transition(claim=claim, to=S.SUBMITTED, user=caseworker)
    client.force_login(reviewer)
    page = client.get(reverse("claim_detail", args=[claim.pk]))
    assert 'value="approved"' in page.text and 'value="returned"' in page.text
    client.post(reverse("claim_transition", args=[claim.pk]), {"to": "approved", "confirm_review": "1"})
    claim.refresh_from_db()
    assert (claim.status, claim.payable, claim.approved_by) == (S.APPROVED, Decimal("4800.00"), reviewer)
    assert "4,800.00" in client.get(reverse("claim_detail", args=[claim.pk])).text


def test_finance_pays_on_the_detail_page_with_date_and_voucher(client, caseworker, reviewer, horqin_person):
    from claims.workflow import claim_transition
    from finance.models import LedgerEntry
    from tests.factories import UserFactory

    claim = _register(caseworker, horqin_person, bank_account="6228480000000000000")
    for step, user in ((S.CALCULATED, caseworker), (S.SUBMITTED, caseworker), (S.APPROVED, reviewer)):
        claim_transition(claim=claim, to=step, user=user)
    client.force_login(UserFactory(role="finance", area_codes=["150500"]))
    with translation.override("zh-hans"):
        page = client.get(reverse("claim_detail", args=[claim.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'value="paid"' in page.text and 'name="voucher_no"' in page.text
    # the date input is filled with today in ISO form, which the browser's date input reads
    # (a localised "2026/12/05" shows as an empty box and the payment is refused)
    assert f'name="paid_on" value="{timezone.localdate():%Y-%m-%d}"' in page.text
    refused = client.post(reverse("claim_transition", args=[claim.pk]), {"to": "paid", "paid_on": "2025-03-25"}, follow=True)
    assert "付款须填写凭证号。" in refused.text
    claim.refresh_from_db()
    assert claim.status == S.APPROVED
    client.post(reverse("claim_transition", args=[claim.pk]), {"to": "paid", "paid_on": "2025-03-25", "voucher_no": "记-7"})
    claim.refresh_from_db()
    assert (claim.status, claim.paid_on, claim.payment_voucher) == (S.PAID, dt.date(2025, 3, 25), "记-7")
    assert LedgerEntry.objects.get(claim=claim).amount == Decimal("4800.00")


def test_caseworker_does_not_see_approve_for_their_own_claim(client, caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)
    client.force_login(caseworker)
    page = client.get(reverse("claim_detail", args=[claim.pk]))
    assert 'value="calculated"' in page.text and 'value="approved"' not in page.text


def test_return_without_reason_is_refused_with_a_message(client, caseworker, reviewer, horqin_person):
    claim = _register(caseworker, horqin_person)
    from claims.workflow import claim_transition

    claim_transition(claim=claim, to=S.CALCULATED, user=caseworker)
    claim_transition(claim=claim, to=S.SUBMITTED, user=caseworker)
    client.force_login(reviewer)
    response = client.post(reverse("claim_transition", args=[claim.pk]), {"to": "returned", "reason": ""}, follow=True)
    assert "请填写原因" in response.text
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED


def test_extension_through_the_page(client, caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, place="out_of_region")
    client.force_login(caseworker)
    page = client.get(reverse("claim_detail", args=[claim.pk]))
    assert "延长至 30 个工作日" in page.text
    client.post(reverse("claim_extend", args=[claim.pk]), {"reason": "需核查住院费用"})
    claim.refresh_from_db()
    assert claim.extension_reason == "需核查住院费用" and claim.due_date == dt.date(2025, 4, 17)  # 30 working days; Qingming 04-04 is off


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_one_time_notice_lists_every_missing_document(client, caseworker, horqin_person, tmp_path):
    contract = Contract.objects.get(code="tongliao-2025")
    docs = requirements_for(program=contract.program, claim_kind="inpatient", place="in_region")
    claim = _register(caseworker, horqin_person, documents=docs[:2])
    client.force_login(caseworker)
    response = client.get(reverse("claim_notice", args=[claim.pk]))
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "notice.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "理赔材料一次性告知书" in text and claim.claim_no in text
    for requirement in docs[2:]:
        assert requirement.label.split("（")[0] in text
    assert docs[0].label in text  # listed as received


def test_deadline_board_counts_open_claims_per_county(client, caseworker, supervisor, horqin_person, kailu_person,
                                                      caseworker_kailu):
    _register(caseworker, horqin_person)  # due 2025-03-19: overdue
    _register(caseworker, horqin_person, records=[{"setl_id": "M-2", "medfee_sumamt": Decimal("9000"),
                                                    "inscp_scp_amt": Decimal("9000"), "hifp_pay": Decimal("5000")}],
              documents=[])  # waiting for documents
    _register(caseworker_kailu, kailu_person, records=[{"setl_id": "K-1", "medfee_sumamt": Decimal("9000"),
                                                         "inscp_scp_amt": Decimal("9000"), "hifp_pay": Decimal("5000")}])
    from claims.selectors import deadline_overview

    rows, _soon = deadline_overview(supervisor, dt.date(2025, 3, 20))
    assert [(r["area__name"], r["open"], r["waiting_documents"], r["overdue"]) for r in rows] == [
        ("科尔沁区", 2, 1, 1), ("开鲁县", 1, 0, 1)]
    rows, _soon = deadline_overview(caseworker, dt.date(2025, 3, 20))
    assert [r["area__name"] for r in rows] == ["科尔沁区"]
    client.force_login(supervisor)
    page = client.get(reverse("claim_deadlines"))
    assert page.status_code == 200 and "开鲁县" in page.text
    chart = page.context["chart"]
    assert chart["xAxis"]["data"] == ["科尔沁区", "开鲁县"]
    # today the 2025 claims are all overdue: overdue / due soon / waiting / other per county
    assert [s["data"] for s in chart["series"]] == [[1, 1], [0, 0], [1, 0], [0, 0]]


def test_rule_of_an_explanation_reads_in_chinese():
    from claims.presentation import rule_in_chinese

    assert rule_in_chinese("schedule row 2: category=special, place=out_of_region, enddate<=2025-06-30") == (
        "第2档：人员类别 特殊人群，就医地 自治区外，出院日期 ≤ 2025-06-30")
    assert rule_in_chinese("schedule row 1: any") == "第1档：适用全部"
    assert rule_in_chinese("schedule row 3: designated=true, drug_list=sd1_domestic|sd1_overseas") == (
        "第3档：指定机构购药 是，特药目录 特药1（国内）/特药1（海外/博鳌乐城）")


def test_reviewer_is_warned_of_overdue_premium_before_and_at_approval(client, caseworker, reviewer, horqin_person):
    """Tongliao's terms suspend liability while premium is unpaid: the claim page says so and
    approving leaves a warning (the decision stays the reviewer's)."""
    from finance import services as finance_services
    from tests.factories import UserFactory

    contract = Contract.objects.get(code="tongliao-2025")
    finance_user = UserFactory(role="finance", area_codes=["150500"])
    finance_services.premium_schedule_generate(contract=contract, user=finance_user)
    from claims.workflow import claim_transition

    client.force_login(reviewer)
    # A stay ending before any installment fell due: not touched by the unpaid 20 % of 12-20.
    early = _register(caseworker, horqin_person)
    claim_transition(claim=early, to=S.CALCULATED, user=caseworker)
    claim_transition(claim=early, to=S.SUBMITTED, user=caseworker)
    assert 'id="premium-suspension"' not in client.get(reverse("claim_detail", args=[early.pk])).text

    claim = _register(caseworker, horqin_person, begndate=dt.date(2025, 12, 21), enddate=dt.date(2025, 12, 24),
                      received_on=dt.date(2025, 12, 26),
                      records=[{"setl_id": "M-late", "medfee_sumamt": Decimal("52000.00"),
                                "inscp_scp_amt": Decimal("52000.00"), "hifp_pay": Decimal("30000.00")}])
    claim_transition(claim=claim, to=S.CALCULATED, user=caseworker)
    claim_transition(claim=claim, to=S.SUBMITTED, user=caseworker)
    page = client.get(reverse("claim_detail", args=[claim.pk]))
    assert 'id="premium-suspension"' in page.text and "50,656,093.11" in page.text  # the 20 % due 2025-12-20
    assert "应缴日期 2025-12-20" in page.text and "remainder" not in page.text
    response = client.post(reverse("claim_transition", args=[claim.pk]), {"to": "approved", "confirm_review": "1"},
                           follow=True)
    assert "已审批，但保费逾期未缴" in response.text and "remainder" not in response.text
    claim.refresh_from_db()
    assert claim.status == S.APPROVED


def test_claim_list_reads_terms_and_calendar_once_per_page(client, caseworker, horqin_person,
                                                           django_assert_max_num_queries):
    for i in range(6):
        _register(caseworker, horqin_person, records=[{"setl_id": f"Q-{i}", "medfee_sumamt": Decimal(9000 + i),
                                                        "inscp_scp_amt": Decimal(9000 + i), "hifp_pay": Decimal("5000")}])
    client.force_login(caseworker)
    # On PostgreSQL every request also sets and resets its lock limit (core.middleware).
    per_request = 2 if connection.vendor == "postgresql" else 0
    # +1 on every page: the header's unread-inbox count (issue 20); +3 for the page's one
    # identity-access insert (savepoint, INSERT of all rows, release), whatever the rows; +2 for
    # the navigation's work-queue counts (issue 23: the calendar window, one aggregate of claims)
    with django_assert_max_num_queries(21 + per_request):  # was 30 for these 6 claims, growing by ~2.5 a row
        page = client.get(reverse("claim_list"))
    assert page.text.count('class="overdue"') == 6


def test_payee_and_bank_account_are_in_full_only_for_roles_that_pay_or_need_identities(client, caseworker, supervisor,
                                                                                        horqin_person):
    """Finance transfers the money (payee, bank, account in full); a supervisor reads them
    masked — on the claim page and in the admin's read-only claim view alike."""
    from tests.factories import UserFactory

    claim = _register(caseworker, horqin_person)
    Claim.objects.filter(pk=claim.pk).update(payee_name="包宝山", bank_name="中国农业银行通辽分行",
                                             bank_account="6228480000000001234")
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    pages = {"detail": reverse("claim_detail", args=[claim.pk]), "admin": reverse("admin:claims_claim_change", args=[claim.pk])}
    for user, full in ((finance, True), (supervisor, False), (caseworker, True)):
        client.force_login(user)
        for name, url in pages.items():
            if name == "admin" and not user.is_staff:
                continue
            body = client.get(url).text
            assert ("6228480000000001234" in body) is full, (user.username, name)
            assert ("6228****1234" in body) is not full, (user.username, name)
            assert ("包宝山" in body) is full, (user.username, name)
            if not full:
                assert "包**" in body
            if name == "admin":  # codes read as their labels
                assert "住院" in body and "自治区内" in body and ">inpatient<" not in body, user.username


def test_the_claim_list_filter_shows_an_area_code_filter_and_offers_all_for_overdue(client, caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)
    client.force_login(caseworker)
    page = client.get(reverse("claim_list")).text
    assert "编码" not in page.split('id="area-code-filter"')[0].split("formgrid")[1].split("</div>")[0]  # no orphan label
    assert '<option value="" selected>全部</option>' in page
    assert 'id="area-code-filter"' not in page
    page = client.get(reverse("claim_list"), {"area_code": "150502", "status": "documents_complete"}).text
    assert '仅显示区域编码 <span class="mono">150502</span>' in page
    assert 'href="?status=documents_complete">显示我负责的全部区域</a>' in page
    assert claim.claim_no in page  # listed under the filter
    assert claim.claim_no not in client.get(reverse("claim_list"), {"area_code": "150523"}).text


def test_claim_pages_showing_full_identities_leave_an_access_record(client, caseworker, reviewer, horqin_person):
    from claims.workflow import claim_transition
    from programs.models import IdentityAccess

    claim = _register(caseworker, horqin_person)
    for step, user in ((S.CALCULATED, caseworker), (S.SUBMITTED, caseworker), (S.APPROVED, reviewer)):
        claim = claim_transition(claim=claim, to=step, user=user)
    client.force_login(caseworker)
    contract = claim.contract
    for url in (reverse("claim_detail", args=[claim.pk]), reverse("claim_list"), reverse("claim_slip", args=[claim.pk]),
                reverse("trial", args=[horqin_person.pk, contract.code]),
                reverse("claim_register", args=[horqin_person.pk, contract.code])):
        assert client.get(url).status_code == 200, url
    seen = list(IdentityAccess.objects.filter(user=caseworker).values_list("person_id", "where").order_by("id"))
    assert seen == [(horqin_person.pk, f"/claims/{claim.pk}/"), (horqin_person.pk, "/claims/"),
                    (horqin_person.pk, f"/claims/{claim.pk}/slip.pdf"),
                    (horqin_person.pk, reverse("trial", args=[horqin_person.pk, contract.code])),
                    (horqin_person.pk, reverse("claim_register", args=[horqin_person.pk, contract.code]))]
    # a supervisor reads the same claim masked: nothing to record
    from tests.factories import UserFactory

    client.force_login(UserFactory(role="supervisor", area_codes=["150500"]))
    client.get(reverse("claim_detail", args=[claim.pk]))
    assert IdentityAccess.objects.count() == 5
