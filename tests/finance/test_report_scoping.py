"""Finance documents are scoped to the reader's areas as the report by county is: a county
finance user's clearing statement holds their own county book only — no other county's name
or figures, and none of the pool's totals they could be worked out from."""

import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from finance import services
from programs.models import Contract
from tests.factories import UserFactory
from tests.finance.test_fund_position import HORQIN, KAILU, instant

pytestmark = pytest.mark.django_db


@pytest.fixture
def tongliao(finance_tongliao):
    contract = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_tongliao,
                                       headcounts={HORQIN: {"resident": 1000}, KAILU: {"resident": 2000}})
    instant(contract, HORQIN, "105614.00")
    instant(contract, KAILU, "100000.00")
    return contract


def _values(content: bytes) -> list:
    sheet = load_workbook(io.BytesIO(content)).active
    return [c for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def test_a_county_finance_user_gets_a_clearing_xlsx_without_the_other_county(client, tongliao):
    client.force_login(UserFactory(username="fin_horqin", role="finance", area_codes=[HORQIN]))
    response = client.get(f"/finance/contracts/{tongliao.code}/clearing.xlsx")
    assert response.status_code == 200
    values = _values(response.content)
    text = " ".join(str(v) for v in values)
    assert "科尔沁区" in values and 105614 in values and 114230 in values  # their own book
    assert "开鲁县" not in text and "150523" not in text
    for other in (100000, 228460, 205614, 342690):  # 开鲁县's spend and fund, the pool's spend and fund
        assert other not in values, other
    for other in ("100,000.00", "228,460.00", "205,614.00", "342,690.00"):
        assert other not in text, other
    # the other county's report is refused, as before
    report = client.get(f"/finance/contracts/{tongliao.code}/report/", {"kind": "monthly", "period": "2025-03",
                                                                        "area": KAILU, "fmt": "xlsx"})
    assert report.status_code == 404


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a_county_finance_user_gets_a_clearing_pdf_without_the_other_county(client, tongliao, tmp_path):
    client.force_login(UserFactory(username="fin_horqin", role="finance", area_codes=[HORQIN]))
    response = client.get(f"/finance/contracts/{tongliao.code}/clearing.pdf")
    path = tmp_path / "c.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "科尔沁区" in text and "105,614.00" in text
    assert "开鲁县" not in text and "100,000.00" not in text and "205,614.00" not in text


def test_a_city_finance_user_still_gets_the_whole_pool(client, tongliao, finance_tongliao):
    client.force_login(finance_tongliao)
    values = _values(client.get(f"/finance/contracts/{tongliao.code}/clearing.xlsx").content)
    assert "科尔沁区" in values and "开鲁县" in values and 100000 in values and 205614 in values
    assert Decimal("342690") in [Decimal(str(v)) for v in values if isinstance(v, (int, float))]


def test_a_county_finance_user_sees_their_county_not_the_region_on_the_pages(client, tongliao, finance_tongliao):
    client.force_login(UserFactory(username="fin_horqin", role="finance", area_codes=[HORQIN]))
    for url in ("/finance/", f"/finance/contracts/{tongliao.code}/"):
        page = client.get(url)
        assert page.status_code == 200
        assert "科尔沁区" in page.text and "105,614.00" in page.text, url  # their own book
        # 开鲁县's fund and spend, the region's totals (the contract's premium schedule, with its
        # headcount per county, stays: premium belongs to the whole contract)
        for other in ("228,460.00", "100,000.00", "205,614.00"):
            assert other not in page.text, (url, other)
    client.force_login(finance_tongliao)
    page = client.get(f"/finance/contracts/{tongliao.code}/")
    assert "开鲁县" in page.text and "205,614.00" in page.text
