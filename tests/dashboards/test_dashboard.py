"""The dashboard page, its PDF and XLSX, and the drill-down filters of the claim list: the
figures of the hand-built world (tests/kpis/builders.py), scoped exactly to the user's areas."""

import datetime as dt
import io
import re
from unittest import mock

import openpyxl
import pytest
from django.urls import reverse

from programs.models import Area, Contract
from tests.factories import UserFactory
from tests.kpis.builders import HORQIN, KAILU, TONGLIAO, build_claims, make_deadline

pytestmark = pytest.mark.django_db


@pytest.fixture
def claims():
    return build_claims()


@pytest.fixture
def region_supervisor():
    return UserFactory(username="sup_region", role="supervisor", area_codes=[TONGLIAO])


@pytest.fixture
def county_supervisor():
    return UserFactory(username="sup_horqin", role="supervisor", area_codes=[HORQIN])


def _tongliao_query(**extra):
    params = {"contract": Contract.objects.get(code="tongliao-2025").pk, "start": "2025-01-01", "end": "2025-12-31", **extra}
    return params


def _tiles(body: str) -> list[str]:
    return re.findall(r'class="tile[^"]*"[^>]*><span>([^<]+)</span><b>([^<]+)</b>', body)


def test_supervisor_home_is_the_dashboard_and_the_workbench_stays_reachable(client, region_supervisor, caseworker):
    client.force_login(region_supervisor)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("dashboards:dashboard")
    assert client.get(reverse("home"), {"view": "workbench"}).status_code == 200
    client.force_login(caseworker)
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("dashboards:dashboard")).status_code == 403  # no finance permission


def test_region_page_shows_all_counties(client, region_supervisor, claims):
    client.force_login(region_supervisor)
    body = client.get(reverse("dashboards:dashboard"), _tongliao_query()).content.decode()
    tiles = dict(_tiles(body))
    assert (tiles["收到的理赔申请"], tiles["审核通过的理赔申请"], tiles["时限内支付"]) == ("6", "5", "60.00%")
    assert "开鲁县医院" in body and "7,777.77" in body
    assert 'id="dashboard-charts"' in body and "<script nonce" not in body


def test_county_page_shows_its_county_only_whatever_the_query(client, county_supervisor, claims):
    client.force_login(county_supervisor)
    kailu = Area.objects.get(code=KAILU)
    for params in (_tongliao_query(), _tongliao_query(area=kailu.pk), _tongliao_query(area=Area.objects.get(code=TONGLIAO).pk)):
        response = client.get(reverse("dashboards:dashboard"), params)
        body = response.content.decode()
        assert response.status_code == 200
        assert "开鲁县医院" not in body and "7,777.77" not in body and "7777.77" not in body
        assert "3,345.75" in body  # approved in 科尔沁区
        assert "75.00%" in body  # paid within the limit
    # a foreign contract id falls back to the user's own contract
    taikang = Contract.objects.get(code="taikang-2025")
    body = client.get(reverse("dashboards:dashboard"), {"contract": taikang.pk}).content.decode()
    assert taikang.name not in body


def _xlsx_overview(response) -> dict:
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True)}


def test_xlsx_has_the_page_figures_scoped(client, region_supervisor, county_supervisor, claims):
    client.force_login(county_supervisor)
    response = client.get(reverse("dashboards:dashboard_xlsx"), _tongliao_query(area=Area.objects.get(code=KAILU).pk))
    assert response.status_code == 200
    overview = _xlsx_overview(response)
    assert overview["收到的理赔申请"] == 5 and overview["审核通过的理赔申请"] == 4 and float(overview["核定金额"]) == 3345.75
    assert overview["区域"] == "科尔沁区"
    client.force_login(region_supervisor)
    overview = _xlsx_overview(client.get(reverse("dashboards:dashboard_xlsx"), _tongliao_query()))
    assert overview["收到的理赔申请"] == 6 and float(overview["核定金额"]) == 11123.52
    assert overview["时限内支付占比（%）"] == 60


class _FakeHTML:
    def __init__(self, string="", **kwargs):
        self.string = string

    def write_pdf(self, *args, **kwargs):
        return b"%PDF-test\n" + self.string.encode()


def test_pdf_has_the_page_figures_scoped(client, county_supervisor, claims):
    client.force_login(county_supervisor)
    with mock.patch("weasyprint.HTML", _FakeHTML):
        response = client.get(reverse("dashboards:dashboard_pdf"), _tongliao_query(area=Area.objects.get(code=KAILU).pk))
    text = response.content.decode()
    assert response["Content-Type"] == "application/pdf"
    assert "联席会" in text and "科尔沁区" in text and "3,345.75" in text and "75.00%" in text
    assert "开鲁县医院" not in text and "7,777.77" not in text
    # the charts are drawn in the PDF itself (SVG: WeasyPrint runs no script)
    monthly = re.search(r'<div class="chart" id="chart-monthly">(<svg.*?</svg>)</div>', text).group(1)
    assert re.findall(r">(\d{4}-\d{2})</text>", monthly) == [m.strftime("%Y-%m") for m in _months_of(text)]
    assert all(f">{name}</text>" in monthly for name in ("收到申请", "审核通过", "已支付"))
    liability = re.search(r'<div class="chart" id="chart-liability">(<svg.*?</svg>)</div>', text).group(1)
    assert "大病保险" in liability and "7,777" not in liability


def _months_of(text: str):
    """The months of the PDF's monthly table, in order."""
    import datetime as dt

    table = text[text.index('id="chart-monthly"'):]
    return [dt.datetime.strptime(m, "%Y-%m") for m in re.findall(r"<tr><td>(\d{4}-\d{2})</td>", table)]


def test_real_pdf_renders(client, county_supervisor, claims):
    client.force_login(county_supervisor)
    response = client.get(reverse("dashboards:dashboard_pdf"), _tongliao_query())
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def _claim_numbers(client, params) -> set[str]:
    body = client.get(reverse("claim_list"), params).content.decode()
    return set(re.findall(r'class="mono">(T\d{6})</a>', body))


def test_drill_down_filters_select_exactly_what_the_figures_count(client, region_supervisor, county_supervisor, claims):
    c = {k: v.claim_no for k, v in claims.items()}
    tongliao = Contract.objects.get(code="tongliao-2025").pk
    client.force_login(region_supervisor)
    period = {"contract": tongliao}
    approved = {**period, "status": ["approved", "paid"], "approved_from": "2025-01-01", "approved_to": "2025-12-31"}
    assert _claim_numbers(client, approved) == {c[x] for x in "ABCDE"}
    assert _claim_numbers(client, {**period, "status": ["paid"], "paid_from": "2025-01-01", "paid_to": "2025-12-31",
                                   "within_limit": "true"}) == {c["A"], c["B"], c["D"]}
    assert _claim_numbers(client, {**period, "within_limit": "false"}) == {c["C"], c["E"]}
    assert _claim_numbers(client, {**approved, "place": "out_of_region"}) == {c["B"]}
    assert _claim_numbers(client, {**approved, "hosp_lv": "3"}) == {c["B"], c["C"]}
    assert _claim_numbers(client, {**approved, "category": "special"}) == {c["A"]}
    assert _claim_numbers(client, {**approved, "liability": "accident_basic"}) == {c["B"]}
    assert _claim_numbers(client, {**approved, "hospital_code": "H1"}) == {c["A"], c["C"]}
    assert _claim_numbers(client, {**period, "registered_from": "2025-03-01", "registered_to": "2025-03-31"}) == {
        c["B"], c["C"], c["E"]}
    # a county supervisor drilling into the other county gets nothing of it
    client.force_login(county_supervisor)
    kailu = Area.objects.get(code=KAILU).pk
    # (an area outside the user's is not a valid choice: the list ignores it and shows their own)
    assert _claim_numbers(client, {**approved, "area": kailu}) == {c[x] for x in "ABCD"}
    assert _claim_numbers(client, {**approved, "hospital_code": "H7"}) == set()
    assert _claim_numbers(client, approved) == {c[x] for x in "ABCD"}


def test_page_links_lead_to_the_claims_counted(client, county_supervisor, claims):
    client.force_login(county_supervisor)
    body = client.get(reverse("dashboards:dashboard"), _tongliao_query()).content.decode()
    late = re.search(r'<a href="([^"]+)" id="late-link">(\d+)</a>', body)
    assert late.group(2) == "1"
    url = late.group(1).replace("&amp;", "&")
    listing = client.get(url).content.decode()
    assert set(re.findall(r'class="mono">(T\d{6})</a>', listing)) == {claims["C"].claim_no}


def test_overdue_panel_lists_deadlines_of_the_users_areas(client, county_supervisor):
    make_deadline(kind="claim_service", area=HORQIN, due=dt.date(2025, 1, 7), label="科尔沁区逾期理赔")
    make_deadline(kind="claim_service", area=KAILU, due=dt.date(2025, 1, 7), label="开鲁县逾期理赔")
    make_deadline(kind="premium_installment", area=TONGLIAO, due=dt.date(2025, 1, 7), label="通辽保费分期")
    client.force_login(county_supervisor)
    body = client.get(reverse("dashboards:dashboard"), _tongliao_query()).content.decode()
    assert "科尔沁区逾期理赔" in body and "开鲁县逾期理赔" not in body and "通辽保费分期" not in body


def test_xlsx_cells_never_run_as_formulas(client, region_supervisor):
    from tests.kpis.builders import make_claim

    make_claim(area=HORQIN, registered=dt.date(2025, 3, 3), complete=dt.date(2025, 3, 3), due=dt.date(2025, 3, 17),
               approved=dt.date(2025, 3, 4), paid=dt.date(2025, 3, 5), payable="12.34", hospital=("HX", "=HYPERLINK(\"x\")"))
    client.force_login(region_supervisor)
    book = openpyxl.load_workbook(io.BytesIO(client.get(reverse("dashboards:dashboard_xlsx"), _tongliao_query()).content))
    cells = [row for row in book["赔付分布"].iter_rows(values_only=True) if row[0] == "赔付金额前列医院"]
    assert cells == [("赔付金额前列医院", "'=HYPERLINK(\"x\")", 1, 12.34)]
