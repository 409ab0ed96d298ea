"""Finance pages: permissions, area scoping, writes through services, PDF/XLSX documents."""

import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from finance import services
from finance.models import LedgerEntry, PremiumInstallment
from programs.models import Area, Contract
from tests.factories import UserFactory
from tests.finance.test_fund_position import HORQIN, KAILU, instant

D = Decimal
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def zhenping(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 1000, "retired": 300}})
    return contract


@pytest.mark.django_db
def test_finance_staff_see_the_dashboard_and_the_suspended_liability(client, finance_user, zhenping):
    client.force_login(finance_user)
    page = client.get("/finance/")
    assert page.status_code == 200
    assert "镇平县城镇职工大额医疗费用补助项目合作协议（2026年度）" in page.text
    detail = client.get(f"/finance/contracts/{zhenping.code}/")
    assert detail.status_code == 200
    assert "184,000.00" in detail.text and "138,000.00" in detail.text  # 40 % and 30 % of 460,000.00
    from django.utils import timezone

    if timezone.localdate() > dt.date(2026, 3, 31):
        assert "保险责任中止" in detail.text


@pytest.mark.django_db
def test_caseworkers_are_refused_and_supervisors_read_only(client, caseworker, supervisor, zhenping):
    client.force_login(caseworker)
    assert client.get("/finance/").status_code == 403
    client.force_login(UserFactory(username="sup_all", role="supervisor", area_codes=["411300"]))
    assert client.get(f"/finance/contracts/{zhenping.code}/").status_code == 200
    inst = PremiumInstallment.objects.get(contract=zhenping, seq=1)
    response = client.post(f"/finance/move/installment/{inst.pk}/receipt/", {"amount": "1.00", "on_date": "2026-03-01"})
    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(book="premium").exists()


@pytest.mark.django_db
def test_out_of_area_contracts_and_rows_are_404(client, finance_tongliao, zhenping):
    client.force_login(finance_tongliao)
    assert client.get(f"/finance/contracts/{zhenping.code}/").status_code == 404
    inst = PremiumInstallment.objects.get(contract=zhenping, seq=1)
    assert client.post(f"/finance/move/installment/{inst.pk}/receipt/", {"amount": "1.00", "on_date": "2026-03-01"}).status_code == 404
    assert "镇平" not in client.get("/finance/").text


@pytest.mark.django_db
def test_receipt_and_reversal_through_the_page(client, finance_user, zhenping):
    client.force_login(finance_user)
    inst = PremiumInstallment.objects.get(contract=zhenping, seq=1)
    url = f"/finance/move/installment/{inst.pk}/receipt/"
    assert client.post(url, {"amount": "100000.00", "on_date": "2026-03-20", "reference": "HD001"}).status_code == 302
    over = client.post(url, {"amount": "84000.01", "on_date": "2026-03-21"}, follow=True)
    assert "该期保费尚欠仅 84,000.00" in over.text
    inst.refresh_from_db()
    assert inst.received == D("100000.00")
    entry = LedgerEntry.objects.get(installment=inst)
    client.post(f"/finance/entries/{entry.pk}/reverse/", {"reason": "wrong amount", "on_date": "2026-03-21"})
    inst.refresh_from_db()
    assert inst.received == D("0.00")
    assert LedgerEntry.objects.filter(reverses=entry).count() == 1


@pytest.mark.django_db
def test_schedule_generation_and_revolving_fund_from_the_page(client, finance_user):
    client.force_login(finance_user)
    response = client.post("/finance/contracts/taikang-2025/do/schedule/", {"headcounts": "411627 insured 54667"})
    assert response.status_code == 302
    assert [i.amount for i in PremiumInstallment.objects.filter(contract__code="taikang-2025")] == [D("4100025.00"), D("4100025.00")]
    client.post("/finance/contracts/taikang-2025/do/revolving/", {"last_year_income": "8200000.00"})
    page = client.get("/finance/contracts/taikang-2025/")
    assert "410,000.00" in page.text and "2025-01-10" in page.text
    fund = Contract.objects.get(code="taikang-2025").revolving_fund
    client.post(f"/finance/move/revolving/{fund.pk}/opening/", {"amount": "410000.00", "on_date": "2025-01-08"})
    client.post(f"/finance/move/revolving/{fund.pk}/debit/", {"amount": "35000.00", "on_date": "2025-01-20", "memo": "理赔支付"})
    page = client.get("/finance/contracts/taikang-2025/")
    assert 'id="revolving-chart-options"' in page.text and '"375000.00"' in page.text
    assert "vendor/echarts/echarts.min.js" in page.text


@needs_poppler
@pytest.mark.django_db
def test_clearing_statement_pdf_and_xlsx_show_every_figure_and_formula(client, finance_user, tmp_path):
    contract = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user,
                                       headcounts={HORQIN: {"resident": 1000}, KAILU: {"resident": 1000}})
    instant(contract, HORQIN, "105614.00")
    instant(contract, KAILU, "100000.00")
    client.force_login(finance_user)
    response = client.get("/finance/contracts/tongliao-2025/clearing.pdf")
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    for expected in ("服务周期清算表", "科尔沁区", "开鲁县", "228,460.00", "205,614.00", "10.00%", "6,853.80", "15,992.20",
                     "返还基本医保基金 = 结余 − 留存 = 22,846.00 − 6,853.80 = 15,992.20"):
        assert expected in text, expected
    xlsx = client.get("/finance/contracts/tongliao-2025/clearing.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "服务周期清算表" in values and 15992.2 in values and "10.00%" in values
    assert any(isinstance(v, str) and v.startswith("结余率 = 结余 ÷ 基金") for v in values)


@needs_poppler
@pytest.mark.django_db
def test_monthly_and_quarterly_reports_per_area_in_chinese(client, finance_user, tmp_path):
    contract = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={HORQIN: {"resident": 1000}, KAILU: {"resident": 1000}})
    instant(contract, HORQIN, "1234.56")
    instant(contract, KAILU, "99.00")
    services.hospital_payable_record(contract=contract, area=Area.objects.get(code=HORQIN), fixmedins_code="H1", fixmedins_name="通辽市医院",
                                     period=dt.date(2025, 3, 1), amount=D("1234.56"), due_date=None, reference="b-1", user=finance_user)
    client.force_login(finance_user)
    monthly = client.get("/finance/contracts/tongliao-2025/report/", {"kind": "monthly", "period": "2025-03", "area": HORQIN, "fmt": "pdf"})
    text = pdf_text(monthly.content, tmp_path)
    assert "月度赔付支出报表" in text and "2025-03-01 – 2025-03-31" in text and "通辽市医院" in text and "1,234.56" in text
    assert "开鲁县" not in text  # per-area report
    quarterly = client.get("/finance/contracts/tongliao-2025/report/", {"kind": "quarterly", "period": "2025-Q1", "fmt": "pdf"})
    text = pdf_text(quarterly.content, tmp_path)
    assert "季度基金使用情况分析" in text and "1,333.56" in text and "基金使用率" in text
    xlsx = client.get("/finance/contracts/tongliao-2025/report/", {"kind": "annual", "period": "2025", "fmt": "xlsx"})
    assert xlsx.status_code == 200 and load_workbook(io.BytesIO(xlsx.content)).active["A1"].value == "年度工作总结报表"
    bad = client.get("/finance/contracts/tongliao-2025/report/", {"kind": "quarterly", "period": "2025-Q5", "fmt": "pdf"})
    assert bad.status_code == 302


@pytest.mark.django_db
def test_a_county_finance_user_cannot_report_on_the_whole_region_or_another_county(client, zhenping):
    user = UserFactory(username="fin_horqin", role="finance", area_codes=[HORQIN])
    client.force_login(user)
    url = "/finance/contracts/tongliao-2025/report/"
    assert client.get(url, {"kind": "annual", "period": "2025", "fmt": "xlsx"}).status_code == 404
    assert client.get(url, {"kind": "annual", "period": "2025", "fmt": "xlsx", "area": KAILU}).status_code == 404
    assert client.get(url, {"kind": "annual", "period": "2025", "fmt": "xlsx", "area": HORQIN}).status_code == 200


@pytest.mark.parametrize(
    ("kind", "text", "bounds"),
    [
        ("monthly", "2025-02", (dt.date(2025, 2, 1), dt.date(2025, 2, 28))),
        ("quarterly", "2025-q4", (dt.date(2025, 10, 1), dt.date(2025, 12, 31))),
        ("semiannual", "2026-H1", (dt.date(2026, 1, 1), dt.date(2026, 6, 30))),
        ("annual", "2025", (dt.date(2025, 1, 1), dt.date(2025, 12, 31))),
    ],
)
def test_report_periods(kind, text, bounds):
    from finance.forms import period_bounds

    assert period_bounds(kind, text) == bounds


@pytest.mark.django_db
def test_a_county_report_labels_the_contracts_premium_as_the_whole_contracts(client, finance_user):
    # Tongliao's premium is computed and received for the whole city: the 科尔沁区 report must
    # not print the city's receipts as "received in the period" beside the county's "—"
    contract = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user, event_dates={"signing": dt.date(2025, 5, 8)})
    first = contract.premium_installments.get(seq=1)
    services.installment_record_receipt(installment=first, amount=first.amount, received_on=dt.date(2025, 6, 5), user=finance_user)
    client.force_login(finance_user)

    def cells(params):
        xlsx = client.get("/finance/contracts/tongliao-2025/report/", {"kind": "annual", "period": "2025", "fmt": "xlsx", **params})
        return [[c for c in row if c is not None] for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)]

    county = cells({"area": HORQIN})
    flat = [c for row in county for c in row]
    assert ["全合同保费分期（通辽市）"] in county
    assert ["本期全合同收款（通辽市，未分配到科尔沁区）：202,624,372.44"] in county
    assert ["保费收入", "—"] in county and ["已收保费", "—"] in county  # not 0.00
    assert ["—：保费按全合同（通辽市）核定和收取，未分配到科尔沁区；参见清算表的市级行。"] in county
    assert not any(isinstance(c, str) and c.startswith("本期收款") for c in flat)
    city = cells({})
    assert ["保费分期"] in city and ["本期收款：202,624,372.44"] in city and ["已收保费", "202,624,372.44"] in city
