import pytest

from tests.browser.conftest import OUTPUT
from tests.factories import UserFactory
from tests.kpis.builders import HORQIN, build_claims

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_lands_on_the_dashboard_sees_charts_and_drills_down_to_a_claim(seeded, live_server, page):
    claims = build_claims()
    UserFactory(username="sup_browser", first_name="科尔沁区主管", role="supervisor", area_codes=[HORQIN])
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", "sup_browser")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/supervision/")
    assert page.locator("h1").inner_text().startswith("监管看板")
    page.select_option("select[name=contract]", label="通辽市2025年度城乡居民大病医疗保险服务项目协议书")
    page.fill("input[name=start]", "2025-01-01")
    page.fill("input[name=end]", "2025-12-31")
    page.click("#dashboard-form button[type=submit]")
    page.wait_for_selector("body[data-charts-ready]")
    # monthly, turnaround, four payout pies, top hospitals (no premium recorded: no fund chart, a hint)
    assert page.locator("body").get_attribute("data-charts-ready") == "7"
    assert "该账目尚未记录保费" in page.inner_text("main")
    assert page.locator("[data-chart=monthly] svg").count() == 1
    assert "每月理赔案件" in page.inner_text("main") and "按保险责任赔付" in page.inner_text("main")
    assert page.locator("#tile-on-time b").inner_text() == "75.00%"
    assert "开鲁县医院" not in page.inner_text("main")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "supervisor-dashboard.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(OUTPUT / "supervisor-dashboard-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.click("#late-link")
    page.wait_for_url("**/claims/?**")
    rows = page.locator("#claims tbody tr")
    assert rows.count() == 1
    page.click(f"text={claims['C'].claim_no}")
    page.wait_for_url(f"**/claims/{claims['C'].pk}/")
    assert claims["C"].claim_no in page.inner_text("h1")
    assert not errors, errors
