import pytest

from tests.browser.conftest import OUTPUT
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_caseworker_logs_in_searches_a_person_and_sees_the_chinese_page(seeded, live_server, page):
    UserFactory(username="cw_browser", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502"), category="special", category_detail="低保").person

    page.goto(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "登录"
    page.fill("input[name=username]", "cw_browser")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "经办工作台"
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.fill("input[name=q]", "包宝")
    page.select_option("select[name=year]", "2025")
    page.click("form.search button")
    results = page.locator("#results")
    results.wait_for()
    text = results.inner_text()
    assert "找到1位参保人" in text
    assert "包宝山" in text and person.certno in text
    assert "2025年度已参保" in text and "特殊人群" in text and "低保" in text
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "caseworker-search.png"), full_page=True)

    page.click("text=详情")
    page.wait_for_url(f"**/persons/{person.pk}/**")
    assert "通辽市2025年度城乡居民大病医疗保险服务项目协议书" in page.inner_text("main")

    # an exact ID number opens the person directly
    page.goto(f"{live_server.url}/")
    page.fill("input[name=q]", person.certno)
    page.click("form.search button")
    page.wait_for_url(f"**/persons/{person.pk}/**")
    assert person.certno in page.inner_text("main")

    page.fill("input[name=q]", "11010519491231002X") if page.locator("input[name=q]").count() else None
    page.goto(f"{live_server.url}/?q=11010519491231002X&year=2025")
    assert "在您负责的区域内未找到“11010519491231002X”对应的参保人。" in page.inner_text("#results")
