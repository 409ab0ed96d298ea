"""Settlement slips (结算单): content read back from the PDF (pdftotext), the page rendered to PNG
(pdftoppm, saved under test-output/slip/), the embedded CJK font, per-contract numbering,
the print log with 补打 reprints, batch printing, and who may print what."""

import datetime as dt
import itertools
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from claims import documents
from claims.models import Claim, SettlementSlip, SlipPrint
from claims.workflow import claim_transition
from programs.models import Area, Contract, EnrollmentPeriod
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not all(shutil.which(t) for t in ("pdftotext", "pdftoppm", "pdffonts")), reason="poppler-utils missing"),
]
S = Claim.Status
OUTPUT = Path(settings.BASE_DIR) / "test-output" / "slip"
_numbers = itertools.count(1)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / f"doc{next(_numbers)}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"[ \t]+", " ", text.replace("\n", ""))  # lines joined: a wrapped title reads whole


def pdf_pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / f"doc{next(_numbers)}.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def save_png(pdf: bytes, name: str) -> Path:
    """The first page as test-output/slip/NAME.png (and the PDF beside it), to look at."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(OUTPUT / f"{name}.pdf"), str(OUTPUT / name)], check=True)
    return OUTPUT / f"{name}.png"


@pytest.fixture
def zhenping_staff(db):
    return {
        "caseworker": UserFactory(username="cw_zp", first_name="赵经办", role="caseworker", area_codes=["411324"]),
        "reviewer": UserFactory(username="rv_zp", first_name="钱审核", role="reviewer", area_codes=["411300"]),
        "finance": UserFactory(username="fi_zp", first_name="孙财务", role="finance", area_codes=["411300"]),
        "supervisor": UserFactory(username="sv_zp", role="supervisor", area_codes=["411300"]),
    }


def _person(contract_code: str, area_code: str, name: str, **enrollment):
    contract = Contract.objects.get(code=contract_code)
    area = Area.objects.get(code=area_code)
    return EnrollmentFactory(person=PersonFactory(name=name, area_code=area_code), contract=contract, area=area,
                             **enrollment).person


def _approved_claim(person, contract_code, area_code, registered_by, approved_by, records, status=S.APPROVED):
    """A claim registered by `registered_by` and approved through the workflow by `approved_by`."""
    contract = Contract.objects.get(code=contract_code)
    area = Area.objects.get(code=area_code)
    claim = Claim.objects.create(claim_no=f"LP{next(_numbers):06d}", contract=contract, person=person, area=area,
                                 registered_by=registered_by, status=S.SUBMITTED, enddate=records[-1]["enddate"],
                                 fixmedins_name=records[0].get("fixmedins_name", ""),
                                 claim_kind=records[0].get("claim_kind", "inpatient"), place=records[0].get("place", ""))
    for i, fields in enumerate(records, 1):
        claim.settlements.create(contract=contract, person=person, area=area, source="manual",
                                 setl_id=f"{claim.claim_no}-{i}", psn_no=person.psn_no or "", **fields)
    if status == S.SUBMITTED:
        return claim
    return claim_transition(claim=claim, to=S.APPROVED, user=approved_by)


ZHENPING_RECORD = {
    "fixmedins_name": "南阳市中心医院", "hosp_lv": "3A", "begndate": dt.date(2026, 2, 20), "enddate": dt.date(2026, 3, 2),
    "claim_kind": "inpatient", "medfee_sumamt": Decimal("162000.00"), "fulamt_ownpay_amt": Decimal("6000.00"),
    "overlmt_selfpay": Decimal("1000.00"), "preselfpay_amt": Decimal("5000.00"), "inscp_scp_amt": Decimal("150000.00"),
    "act_pay_dedc": Decimal("800.00"), "hifp_pay": Decimal("60000.00"), "psn_cash_pay": Decimal("102000.00"),
    "over_cap_amt": Decimal("10000.00"),
}


@pytest.fixture
def zhenping_claim(zhenping_staff):
    person = _person("zhenping-2026", "411324", "李建国", employment="retired")
    return _approved_claim(person, "zhenping-2026", "411324", zhenping_staff["caseworker"], zhenping_staff["reviewer"],
                           [ZHENPING_RECORD])


def _print_slip(client, user, claim):
    """A print: the claim page's button posts (CSRF-checked in `test_printing_needs_a_post_with_the_csrf_token`)."""
    client.force_login(user)
    return client.post(reverse("claim_slip", args=[claim.pk]))


def _preview_slip(client, user, claim):
    client.force_login(user)
    return client.get(reverse("claim_slip", args=[claim.pk]))


def test_zhenping_slip_shows_costs_bands_payable_in_figures_and_capitals_and_remaining_sum_insured(
    client, zhenping_staff, zhenping_claim, tmp_path
):
    response = _print_slip(client, zhenping_staff["caseworker"], zhenping_claim)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    assert "镇平县城镇职工大额医疗费用补助项目合作协议（2026年度）" in text  # no slip title set: the contract's
    assert "结算单号：ZP2026-000001" in text and zhenping_claim.claim_no in text
    assert "三级甲等" in text and " 3A " not in text  # the hospital level in words, not its code
    # the fee breakdown of the record
    for label, amount in [("医疗费总额", "162,000.00"), ("全自费金额（目录外）", "6,000.00"), ("超限价自付", "1,000.00"),
                          ("先行自付", "5,000.00"), ("符合政策范围金额", "150,000.00"), ("统筹基金支付", "60,000.00"),
                          ("大额补助支付", "0.00"), ("个人现金支付", "102,000.00")]:
        assert label in text and amount in text
    # the calculation band by band, from the stored explanation
    assert "计算基数 = 超基本医保封顶线合规费用 10,000.00 = 10,000.00" in text
    assert "分段 (0.00, 10,000.00] × 90% = 9,000.00" in text
    assert "大额医疗费用补助封顶线 540,000.00，此前已付 0.00，剩余 540,000.00" in text
    # payable, cumulative paid and the remaining sum insured after this claim
    assert "¥9,000.00" in text and "人民币 玖仟元整" in text
    assert "剩余保险金额" in text and "531,000.00" in text
    for box in ("经办人", "审核人", "领款人签字", "单位盖章"):
        assert box in text
    assert "赵经办" in text and "钱审核" in text  # registered by, approved by
    assert "打印时间" in text and "打印人：赵经办" in text and "原件" in text and "补打" not in text


def test_taikang_slip_carries_the_contracts_own_title(client, tmp_path):
    caseworker = UserFactory(username="cw_tk", role="caseworker", area_codes=["411627"])
    reviewer = UserFactory(username="rv_tk", role="reviewer", area_codes=["411600"])
    person = _person("taikang-2025", "411627", "王秀兰", employment="retired")
    claim = _approved_claim(person, "taikang-2025", "411627", caseworker, reviewer, [{
        "fixmedins_name": "太康县人民医院", "hosp_lv": "2", "enddate": dt.date(2025, 6, 3), "claim_kind": "inpatient",
        "place": "local", "over_cap_amt": Decimal("20000.00"),
    }])
    text = pdf_text(_print_slip(client, caseworker, claim).content, tmp_path)
    assert "周口市城镇职工大额住院医疗费用结算单" in text
    assert "统筹区内" in text and "太康县人民医院" in text
    # retired, local, level-2 hospital: 90 % of 20,000
    assert "¥18,000.00" in text and "壹万捌仟元整" in text and "452,000.00" in text


def test_id_number_is_masked_for_finance_and_full_for_the_caseworker(client, zhenping_staff, zhenping_claim, tmp_path):
    certno = zhenping_claim.person.certno
    masked = certno[:4] + "*" * 10 + certno[-4:]
    full = pdf_text(_print_slip(client, zhenping_staff["caseworker"], zhenping_claim).content, tmp_path)
    assert certno in full and "李建国" in full
    hidden = pdf_text(_print_slip(client, zhenping_staff["finance"], zhenping_claim).content, tmp_path)
    assert certno not in hidden and masked in hidden
    assert "李建国" not in hidden and "李**" in hidden


def test_second_print_is_a_counted_reprint_and_every_print_is_logged(client, zhenping_staff, zhenping_claim, tmp_path):
    first = pdf_text(_print_slip(client, zhenping_staff["caseworker"], zhenping_claim).content, tmp_path)
    second = pdf_text(_print_slip(client, zhenping_staff["reviewer"], zhenping_claim).content, tmp_path)
    assert "第1次打印" in first and "原件" in first and "补打" not in first
    assert "第2次打印" in second and "补打" in second and "打印人：钱审核" in second
    assert "结算单号：ZP2026-000001" in second  # the number was drawn once
    log = list(SlipPrint.objects.filter(slip__claim=zhenping_claim).values_list("copy_no", "printed_by__username"))
    assert log == [(1, "cw_zp"), (2, "rv_zp")]


def test_slip_numbers_are_sequential_per_contract_in_order_of_first_print(zhenping_staff, zhenping_claim):
    other = _approved_claim(_person("zhenping-2026", "411324", "张桂芳"), "zhenping-2026", "411324",
                            zhenping_staff["caseworker"], zhenping_staff["reviewer"], [ZHENPING_RECORD])
    tk_cw = UserFactory(role="caseworker", area_codes=["411627"])
    taikang = _approved_claim(_person("taikang-2025", "411627", "王秀兰"), "taikang-2025", "411627", tk_cw,
                              UserFactory(role="reviewer", area_codes=["411600"]),
                              [{"enddate": dt.date(2025, 6, 3), "claim_kind": "inpatient", "place": "local",
                                "over_cap_amt": Decimal("1000.00")}])
    admin = UserFactory(username="root", is_superuser=True)
    documents.slips_issue(claims=[other], user=zhenping_staff["caseworker"])
    documents.slips_issue(claims=[taikang, zhenping_claim, other], user=admin)
    numbers = dict(SettlementSlip.objects.values_list("claim_id", "number"))
    assert numbers == {other.pk: "ZP2026-000001", zhenping_claim.pk: "ZP2026-000002",
                       taikang.pk: "TK2025-000001"}
    assert SlipPrint.objects.get(slip__claim=other, copy_no=2).batch_size == 3


def test_slip_numbers_already_issued_keep_their_form_new_ones_take_the_offices_numbering(zhenping_staff, zhenping_claim):
    """Issue 23: `zhenping-2026-000001` (the contract's internal code) was on the slips; the
    office numbers them per contract year with its own prefix. What was printed stays printed."""
    from claims.models import ClaimTerms

    other = _approved_claim(_person("zhenping-2026", "411324", "张桂芳"), "zhenping-2026", "411324",
                            zhenping_staff["caseworker"], zhenping_staff["reviewer"], [ZHENPING_RECORD])
    old = SettlementSlip.objects.create(claim=other, contract=other.contract, sequence=1, number="zhenping-2026-000001",
                                        issued_by=zhenping_staff["caseworker"], issued_at=other.approved_at)
    assert dict(ClaimTerms.objects.values_list("contract__code", "slip_prefix")) == {
        "tongliao-2025": "TL", "taikang-2025": "TK", "zhenping-2026": "ZP", "beijing-chaoyang-2026": "BJ"}
    documents.slips_issue(claims=[zhenping_claim, other], user=zhenping_staff["caseworker"])
    assert dict(SettlementSlip.objects.values_list("claim_id", "number")) == {
        other.pk: "zhenping-2026-000001", zhenping_claim.pk: "ZP2026-000002"}
    old.refresh_from_db()
    assert old.number == "zhenping-2026-000001" and SlipPrint.objects.filter(slip=old).count() == 1


def test_a_contract_without_a_prefix_numbers_by_year_and_row_never_by_its_code(zhenping_staff, zhenping_claim):
    from claims.models import ClaimTerms

    ClaimTerms.objects.filter(contract=zhenping_claim.contract).update(slip_prefix="")
    documents.slips_issue(claims=[zhenping_claim], user=zhenping_staff["caseworker"])
    assert SettlementSlip.objects.get().number == f"2026-C{zhenping_claim.contract_id}-000001"


def test_two_contracts_of_one_year_cannot_share_a_prefix(db):
    from django.core.exceptions import ValidationError

    from claims.models import ClaimTerms

    taikang = ClaimTerms.objects.get(contract__code="taikang-2025")
    taikang.slip_prefix = "TL"  # Tongliao's, also 2025
    with pytest.raises(ValidationError) as refused:
        taikang.full_clean()
    assert refused.value.message_dict == {"slip_prefix": [
        "前缀 TL 已由 通辽市2025年度城乡居民大病医疗保险服务项目协议书 在 2025 年度使用。"]}
    taikang.slip_prefix = "ZP"  # Zhenping's is 2026: no clash
    taikang.full_clean()
    taikang.slip_prefix = "tl-"
    with pytest.raises(ValidationError) as refused:
        taikang.full_clean()
    assert refused.value.message_dict == {"slip_prefix": ["大写字母和数字，以字母开头。"]}


@pytest.mark.parametrize("fetch", [_print_slip, _preview_slip])
def test_a_claim_not_yet_approved_gets_no_slip(client, zhenping_staff, tmp_path, fetch):
    person = _person("zhenping-2026", "411324", "李建国")
    claim = _approved_claim(person, "zhenping-2026", "411324", zhenping_staff["caseworker"], None, [ZHENPING_RECORD],
                            status=S.SUBMITTED)
    response = fetch(client, zhenping_staff["caseworker"], claim)
    assert response.status_code == 409
    assert "只有已审批或已支付的理赔才能打印结算单" in response.content.decode()
    assert not SettlementSlip.objects.exists() and not SlipPrint.objects.exists()


@pytest.mark.parametrize("fetch", [_print_slip, _preview_slip])
def test_a_caseworker_cannot_print_another_countys_claim(client, zhenping_claim, fetch):
    taikang_caseworker = UserFactory(role="caseworker", area_codes=["411627"])
    assert fetch(client, taikang_caseworker, zhenping_claim).status_code == 404
    assert not SlipPrint.objects.exists()


@pytest.mark.parametrize("fetch", [_print_slip, _preview_slip])
def test_a_supervisor_may_read_claims_but_not_print_slips(client, zhenping_staff, zhenping_claim, fetch):
    assert fetch(client, zhenping_staff["supervisor"], zhenping_claim).status_code == 403
    assert not SlipPrint.objects.exists()


def test_opening_the_slip_is_a_preview_marked_on_every_page_that_records_nothing(
    client, zhenping_staff, zhenping_claim, tmp_path
):
    response = _preview_slip(client, zhenping_staff["caseworker"], zhenping_claim)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="slip-' in response["Content-Disposition"] and "-preview.pdf" in response["Content-Disposition"]
    path = tmp_path / "preview.pdf"
    path.write_bytes(response.content)
    pages = pdf_pages(response.content, tmp_path)
    for number in range(1, pages + 1):
        page = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert "预览 · 非正式单据" in page, f"page {number} has no preview mark"
    text = pdf_text(response.content, tmp_path)
    assert "¥9,000.00" in text and "玖仟元整" in text  # the content is the slip's
    assert "原件" not in text and "补打" not in text and "打印人" not in text
    assert "结算单号：打印时编号" in text and "预览人：赵经办" in text
    assert not SettlementSlip.objects.exists() and not SlipPrint.objects.exists()
    save_png(response.content, "slip-preview")
    # the first real print is still the original; a later preview changes nothing
    first = pdf_text(_print_slip(client, zhenping_staff["caseworker"], zhenping_claim).content, tmp_path)
    assert "原件" in first and "预览" not in first and "结算单号：ZP2026-000001" in first
    again = pdf_text(_preview_slip(client, zhenping_staff["caseworker"], zhenping_claim).content, tmp_path)
    assert "结算单号：ZP2026-000001" in again and "预览 · 非正式单据" in again and "原件" not in again
    assert list(SlipPrint.objects.values_list("copy_no", flat=True)) == [1]


def test_printing_needs_a_post_with_the_csrf_token(zhenping_staff, zhenping_claim, tmp_path):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(zhenping_staff["caseworker"])
    url = reverse("claim_slip", args=[zhenping_claim.pk])
    assert browser.post(url).status_code == 403  # a cross-site form cannot print
    assert not SettlementSlip.objects.exists() and not SlipPrint.objects.exists()
    page = browser.get(reverse("claim_detail", args=[zhenping_claim.pk])).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)" target="_blank" class="inline" id="slip-print">'
                     r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">', page)
    assert form and form.group(1) == url
    assert f'href="{url}" target="_blank" id="slip-preview"' in page
    response = browser.post(url, {"csrfmiddlewaretoken": form.group(2)})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "原件" in pdf_text(response.content, tmp_path)
    assert list(SlipPrint.objects.values_list("copy_no", "printed_by__username")) == [(1, "cw_zp")]


def test_admin_action_prints_several_slips_into_one_pdf(client, zhenping_staff, zhenping_claim, tmp_path):
    other = _approved_claim(_person("zhenping-2026", "411324", "张桂芳"), "zhenping-2026", "411324",
                            zhenping_staff["caseworker"], zhenping_staff["reviewer"], [ZHENPING_RECORD])
    client.force_login(zhenping_staff["caseworker"])
    response = client.post(reverse("admin:claims_claim_changelist"),
                           {"action": "print_slips", "_selected_action": [zhenping_claim.pk, other.pk]})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert pdf_pages(response.content, tmp_path) == 2  # one page per slip
    text = pdf_text(response.content, tmp_path)
    assert "ZP2026-000001" in text and "ZP2026-000002" in text
    assert list(SlipPrint.objects.values_list("batch_size", flat=True)) == [2, 2]


def test_admin_batch_holding_an_unapproved_claim_is_refused_as_a_whole(client, zhenping_staff, zhenping_claim):
    pending = _approved_claim(_person("zhenping-2026", "411324", "张桂芳"), "zhenping-2026", "411324",
                              zhenping_staff["caseworker"], None, [ZHENPING_RECORD], status=S.SUBMITTED)
    client.force_login(zhenping_staff["caseworker"])
    response = client.post(reverse("admin:claims_claim_changelist"),
                           {"action": "print_slips", "_selected_action": [zhenping_claim.pk, pending.pk]}, follow=True)
    assert response["Content-Type"].startswith("text/html")
    assert f"{pending.claim_no}（已提交审核）" in response.content.decode()
    assert not SlipPrint.objects.exists()


def test_tongliao_slip_lists_every_band_of_a_claim_crossing_three(client, reviewer, tmp_path):
    caseworker = UserFactory(username="cw_tl", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])
    person = _person("tongliao-2025", "150502", "包宝山")
    record = {"enddate": dt.date(2025, 3, 2), "claim_kind": "inpatient", "place": "in_region", "hifp_pay": Decimal("30000")}
    claim = _approved_claim(person, "tongliao-2025", "150502", caseworker, reviewer, [
        {**record, "inscp_scp_amt": Decimal("52000")},
        {**record, "enddate": dt.date(2025, 5, 2), "inscp_scp_amt": Decimal("70000")},
    ])
    assert claim.payable == Decimal("33200.00")
    pdf = _print_slip(client, caseworker, claim).content
    save_png(pdf, "tongliao-two-records")
    text = pdf_text(pdf, tmp_path)
    for line in ("分段 (14,000.00, 22,000.00] × 60% = 4,800.00", "分段 (22,000.00, 30,000.00] × 60% = 4,800.00",
                 "分段 (30,000.00, 50,000.00] × 70% = 14,000.00", "分段 (50,000.00, 62,000.00] × 80% = 9,600.00",
                 "起付线 14,000.00"):
        assert line in text
    assert "¥33,200.00" in text and "叁万叁仟贰佰元整" in text and "346,800.00" in text


def test_slip_renders_to_a_png_with_the_cjk_font_embedded(client, zhenping_staff, zhenping_claim, tmp_path):
    pdf = _print_slip(client, zhenping_staff["caseworker"], zhenping_claim).content
    pdf = _print_slip(client, zhenping_staff["caseworker"], zhenping_claim).content  # a reprint: the red mark shows
    path = tmp_path / "slip.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    # WeasyPrint names the subset "XXXXXX+Noto-Sans-CJK-SC-Regular"; embedded ("emb" = yes)
    cjk = [line for line in fonts.splitlines() if "NotoSansCJK" in line.replace("-", "")]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)
    png = save_png(pdf, "slip")
    assert png.stat().st_size > 20_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf_pages(pdf, tmp_path) == 1  # one slip fits on one A4 page


def test_a_failed_render_leaves_no_print_counted(zhenping_staff, zhenping_claim, monkeypatch):
    def broken(pages):
        raise RuntimeError("pango crashed")

    monkeypatch.setattr(documents, "slip_render", broken)
    with pytest.raises(RuntimeError):
        documents.slips_print(claims=[zhenping_claim], user=zhenping_staff["caseworker"])
    assert not SlipPrint.objects.exists() and not SettlementSlip.objects.exists()


@pytest.mark.parametrize(("amount", "words"), [("3800", "叁仟捌佰元整"), ("9000.00", "玖仟元整"),
                                                ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"), ("0", "零元整")])
def test_amount_in_chinese_capitals(amount, words):
    assert documents.amount_in_capitals(Decimal(amount)) == words


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_prints_draw_distinct_sequential_numbers_and_copies(seeded):
    import threading

    from django.db import close_old_connections, connection

    from tests.conftest import require_or_skip

    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    caseworker = UserFactory(username="cw_race", role="caseworker", area_codes=["411324"])
    approver = UserFactory(username="rv_race", role="reviewer", area_codes=["411300"])
    contract, area = Contract.objects.get(code="zhenping-2026"), Area.objects.get(code="411324")
    claims = [
        Claim.objects.create(claim_no=f"RACE{i}", contract=contract, area=area, registered_by=caseworker,
                             person=_person("zhenping-2026", "411324", "李建国"), status=S.APPROVED,
                             payable=Decimal("9000.00"), approved_by=approver, enddate=dt.date(2026, 3, 2))
        for i in range(4)
    ]
    # four different claims at once, and the first claim three more times at once
    jobs = [*claims, claims[0], claims[0], claims[0]]
    barrier = threading.Barrier(len(jobs))
    errors = []

    def issue(claim):
        try:
            barrier.wait(timeout=10)
            documents.slips_issue(claims=[claim], user=caseworker)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=issue, args=(c,)) for c in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(SettlementSlip.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4]
    assert sorted(SlipPrint.objects.filter(slip__claim=claims[0]).values_list("copy_no", flat=True)) == [1, 2, 3, 4]


def test_supervisors_read_the_print_log_of_their_region_only(client, zhenping_staff, zhenping_claim):
    documents.slips_issue(claims=[zhenping_claim], user=zhenping_staff["caseworker"])
    documents.slips_issue(claims=[zhenping_claim], user=zhenping_staff["reviewer"])
    slip = SettlementSlip.objects.get()
    client.force_login(zhenping_staff["supervisor"])
    listing = client.get(reverse("admin:claims_settlementslip_changelist"))
    assert listing.status_code == 200 and "ZP2026-000001" in listing.content.decode()
    detail = client.get(reverse("admin:claims_settlementslip_change", args=[slip.pk])).content.decode()
    assert "rv_zp" in detail or "钱审核" in detail
    elsewhere = UserFactory(role="supervisor", area_codes=["150500"])
    client.force_login(elsewhere)
    assert "ZP2026-000001" not in client.get(reverse("admin:claims_settlementslip_changelist")).content.decode()
    assert client.get(reverse("admin:claims_settlementslip_change", args=[slip.pk])).status_code == 302


def test_the_slip_shows_the_category_as_it_stood_on_the_discharge_date(client, reviewer, tmp_path):
    """A March discharge approved as ordinary; the registry later makes the person 特困 from
    07-01: the slip still reads 普通人员 (以出院日期为准), an August claim's slip reads 特殊人群."""
    caseworker = UserFactory(username="cw_cat", role="caseworker", area_codes=["150502"])
    person = _person("tongliao-2025", "150502", "包宝山")
    record = {"claim_kind": "inpatient", "place": "in_region", "hifp_pay": Decimal("30000"), "inscp_scp_amt": Decimal("52000")}
    march = _approved_claim(person, "tongliao-2025", "150502", caseworker, reviewer,
                            [{**record, "enddate": dt.date(2025, 3, 2)}])
    assert march.payable == Decimal("4800.00")  # ordinary: deductible 14,000, (22,000 − 14,000) × 60 %
    enrollment = person.enrollments.get()
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=enrollment.area, category="ordinary", employment="active",
                                    status="active", valid_from=dt.date(2025, 1, 1), valid_to=dt.date(2025, 6, 30))
    enrollment.category, enrollment.category_detail, enrollment.attributes_from = "special", "特困", dt.date(2025, 7, 1)
    enrollment.save()
    text = pdf_text(_print_slip(client, caseworker, march).content, tmp_path)
    assert "人员类别普通人员 · 在职" in text and "特殊人群" not in text and "特困" not in text
    august = _approved_claim(person, "tongliao-2025", "150502", caseworker, reviewer,
                             [{**record, "enddate": dt.date(2025, 8, 12)}])
    text = pdf_text(_print_slip(client, caseworker, august).content, tmp_path)
    assert "人员类别特殊人群（特困） · 在职" in text
