"""Issue 23 items 3 and 4 in a real browser at the window's screen size (1366×768): a Zhenping
caseworker registers a claim typing "10,000,000.00" and keeping the default discharge date;
the grid asks first for 超基本医保封顶线合规费用 and needs no sideways scrolling; neither does
Beijing's grid nor the user admin. Screenshots in test-output/browser/."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from claims.models import Claim
from programs.models import Area, Contract
from tests.browser.conftest import OUTPUT
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREEN = {"width": 1366, "height": 768}
OVERFLOW = """() => ({
  page: document.documentElement.scrollWidth, window: window.innerWidth,
  wide: [...document.querySelectorAll('main *, #content *')].filter(e => e.scrollWidth > e.clientWidth + 1
        && getComputedStyle(e).overflowX !== 'visible' && e.clientWidth > 0).map(e => e.id || e.className || e.tagName)
})"""


@pytest.fixture
def screen(browser):
    context = browser.new_context(locale="zh-CN", viewport=SCREEN)
    page = context.new_page()
    yield page
    context.close()


def _login(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_a_caseworker_registers_with_separators_and_the_default_date_on_a_1366_screen(seeded, live_server, screen):
    page, url = screen, live_server.url
    OUTPUT.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    contract = Contract.objects.get(code="zhenping-2026")
    if not contract.period_start <= today <= contract.period_end:
        pytest.skip("today lies outside Zhenping's 2026 year: the discharge date has no default")
    UserFactory(username="cw_grid", role="caseworker", area_codes=["411324"])
    person = EnrollmentFactory(person=PersonFactory(name="李建国", area_code="411324"), contract=contract,
                               area=Area.objects.get(code="411324"), enrolled_from=contract.period_start).person
    _login(page, url, "cw_grid")
    page.goto(f"{url}/claims/new/{person.pk}/zhenping-2026/")

    # what the contract pays on comes first, and the page fits the screen
    first = page.locator("#records fieldset.record").first
    assert first.locator(".payout label.field span").first.inner_text() == "超基本医保封顶线合规费用"
    assert first.locator("input").first.get_attribute("name") == "r-0-over_cap_amt"
    width = page.evaluate(OVERFLOW)
    assert width["page"] <= width["window"] == 1366 and width["wide"] == []
    assert page.input_value("input[name=c-enddate]") == today.isoformat()
    assert page.input_value("input[name=c-received_on]") == today.isoformat()
    assert [o.strip() for o in page.locator("select[name=c-hosp_lv] option").all_inner_texts()] == [
        "—", "一级", "二级", "三级", "三级甲等"]
    page.screenshot(path=str(OUTPUT / "grid-1-zhenping-empty.png"), full_page=True)

    page.select_option("select[name=c-claim_kind]", label="住院")
    page.fill("input[name=c-fixmedins_name]", "南阳市中心医院")
    page.select_option("select[name=c-hosp_lv]", label="三级甲等")
    for box in page.locator(".checklist input[type=checkbox]").all():
        box.check()
    page.fill("input[name=r-0-over_cap_amt]", "1,234,567.89")
    page.fill("input[name=r-0-setl_id]", "ZP-B-001")
    page.fill("input[name=r-0-medfee_sumamt]", "10,000,000.00")
    page.fill("input[name=r-0-inscp_scp_amt]", "10,000,000.00")
    page.fill("input[name=r-0-hifp_pay]", "80,000.00")
    assert page.input_value("input[name=r-0-medfee_sumamt]") == "10,000,000.00"  # the browser kept the commas
    page.screenshot(path=str(OUTPUT / "grid-2-zhenping-filled.png"), full_page=True)
    page.click("button:has-text('登记')")
    page.wait_for_url("**/claims/*/")

    claim = Claim.objects.get()
    record = claim.settlements.get()
    assert claim.enddate == today and claim.status == Claim.Status.DOCUMENTS_COMPLETE
    assert (record.medfee_sumamt, record.over_cap_amt, record.hifp_pay) == (
        Decimal("10000000.00"), Decimal("1234567.89"), Decimal("80000.00"))
    buttons = page.locator("#actions button").all_inner_texts()
    assert buttons == ["试算", "撤回"]
    assert page.evaluate(OVERFLOW)["page"] <= 1366
    page.screenshot(path=str(OUTPUT / "grid-3-claim-verbs.png"), full_page=True)


def test_beijings_grid_and_the_user_admin_fit_1366_pixels(seeded, live_server, screen):
    page, url = screen, live_server.url
    OUTPUT.mkdir(parents=True, exist_ok=True)
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    UserFactory(username="cw_bj_grid", role="caseworker", area_codes=["110105"])
    person = EnrollmentFactory(person=PersonFactory(name="王建华", area_code="110105"), contract=contract,
                               area=Area.objects.get(code="110105"), enrolled_from=dt.date(2026, 1, 1)).person
    _login(page, url, "cw_bj_grid")
    page.goto(f"{url}/claims/new/{person.pk}/beijing-chaoyang-2026/")
    payout = page.locator("#records fieldset.record").first.locator(".payout label.field > span").all_inner_texts()
    assert [p.strip() for p in payout] == ["符合政策范围金额", "先行自付金额", "统筹基金支出", "大病保险支出", "全自费金额",
                                           "特药金额", "明细项目"]
    page.click("#add-record")
    assert page.locator("#records fieldset.record").count() == 2
    width = page.evaluate(OVERFLOW)
    assert width["page"] <= width["window"] == 1366 and width["wide"] == []
    page.screenshot(path=str(OUTPUT / "grid-4-beijing.png"), full_page=True)

    root = UserFactory(username="root_grid", is_superuser=True, is_staff=True)
    page.context.clear_cookies()
    _login(page, url, "root_grid")
    for n, path in enumerate(("/admin/accounts/user/", f"/admin/accounts/user/{root.pk}/change/"), start=5):
        page.goto(url + path)
        measured = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert measured[0] <= measured[1] == 1366, (path, measured)
        page.screenshot(path=str(OUTPUT / f"grid-{n}-user-admin.png"), full_page=True)
