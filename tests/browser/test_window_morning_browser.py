"""A caseworker's morning at the window (issue 23), in a real browser: the home page's queue
names the claim waiting for documents; one click opens the person's whole picture; a 试算 there
becomes a registration without typing the figures again; the registration is submitted."""

import pytest

from claims.models import Claim, Settlement
from programs.models import Area, Contract
from tests.browser.conftest import OUTPUT
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_queue_person_trial_registration(seeded, live_server, page):
    import datetime as dt

    cw = UserFactory(username="cw_m", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person
    waiting = Claim.objects.create(
        claim_no="LP2025150502000001", contract=Contract.objects.get(code="tongliao-2025"), person=person,
        area=Area.objects.get(code="150502"), registered_by=cw, enddate=dt.date(2025, 3, 2), fixmedins_name="通辽市医院",
        place="in_region")
    url = live_server.url
    OUTPUT.mkdir(parents=True, exist_ok=True)

    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "cw_m")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    assert page.inner_text("#nav-queue-waiting_documents") == "待补材料 1"
    queue = page.inner_text("#queue-waiting_documents")
    assert waiting.claim_no in queue and "包宝山" in queue
    page.screenshot(path=str(OUTPUT / "morning-1-queues.png"), full_page=True)

    page.click("#queue-waiting_documents >> text=包宝山")
    page.wait_for_url(f"**/persons/{person.pk}/**")
    assert waiting.claim_no in page.inner_text("#person-claims")
    assert "380,000.00" in page.inner_text("#person-totals")
    page.screenshot(path=str(OUTPUT / "morning-2-person.png"), full_page=True)

    page.click("a:text-is('试算')")
    page.fill("input[name=r-0-setl_id]", "M-M-001")
    page.fill("input[name=r-0-enddate]", "2025-05-02")
    page.select_option("select[name=r-0-claim_kind]", "inpatient")
    page.select_option("select[name=r-0-place]", "in_region")
    page.fill("input[name=r-0-inscp_scp_amt]", "70000")
    page.fill("input[name=r-0-hifp_pay]", "30000")
    page.click("button:has-text('计算')")
    page.wait_for_selector("#trial-results")
    assert "16,600.00" in page.inner_text("#trial-results")  # 14,000–30,000 at 60 % + 30,000–40,000 at 70 %
    page.screenshot(path=str(OUTPUT / "morning-3-trial.png"), full_page=True)

    page.click("text=按试算数据登记理赔")
    page.wait_for_url(f"**/claims/new/{person.pk}/tongliao-2025/")
    assert page.input_value("input[name=r-0-inscp_scp_amt]") == "70000.00"
    assert page.input_value("input[name=r-0-hifp_pay]") == "30000.00"
    assert page.input_value("input[name=r-0-setl_id]") == "M-M-001"
    assert page.input_value("input[name=c-enddate]") == "2025-05-02"
    page.fill("input[name=c-fixmedins_name]", "通辽市医院")
    page.fill("input[name=c-begndate]", "2025-04-20")
    page.fill("input[name=r-0-medfee_sumamt]", "70000.00")
    page.screenshot(path=str(OUTPUT / "morning-4-registration.png"), full_page=True)
    page.click("button:has-text('登记')")
    page.wait_for_url("**/claims/*/")
    registered = Claim.objects.exclude(pk=waiting.pk).get()
    assert "已登记" in page.inner_text("h1")
    settlement = Settlement.objects.get(claim=registered)
    assert (settlement.setl_id, str(settlement.inscp_scp_amt), str(settlement.hifp_pay)) == ("M-M-001", "70000.00", "30000.00")
    page.screenshot(path=str(OUTPUT / "morning-5-registered.png"), full_page=True)
