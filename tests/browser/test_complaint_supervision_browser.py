"""A supervisor sets the default complaint answer times (a refused value named in Chinese, then
a saved one) and reopens a closed complaint; screenshots of both pages."""

import datetime as dt

import pytest

from insurance_admin.complaints import services
from insurance_admin.complaints.models import Complaint
from programs.models import Area, Contract
from tests.browser.conftest import OUTPUT
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_sets_default_answer_times_and_reopens_a_complaint(seeded, live_server, page):
    supervisor = UserFactory(username="sup_bj_browser", first_name="北京主管", role="supervisor", area_codes=["110000"])
    caseworker = UserFactory(username="cw_bj_browser", role="caseworker", area_codes=["110105"])
    beijing = Contract.objects.get(code="beijing-chaoyang-2026")
    complaint = services.complaint_register(
        user=caseworker, contract=beijing, area=Area.objects.get(code="110105"), channel="window",
        category="service_quality", complexity="simple", summary="窗口排队时间过长", received_on=dt.date(2026, 2, 9),
        complainant_name="钱先生")
    complaint = services.complaint_transition(complaint=complaint, to="investigating", user=supervisor, assignee=supervisor)
    complaint = services.complaint_transition(complaint=complaint, to="answered", user=supervisor, answer="已答复并致歉",
                                              root_cause="高峰时段窗口人员不足", on=dt.date(2026, 2, 10))
    complaint = services.complaint_transition(complaint=complaint, to="closed", user=supervisor,
                                              rectification="窗口增设引导员", on=dt.date(2026, 2, 11))
    terms = services.terms_for(beijing)
    errors = []
    # the refused save answers 400 (the form with its errors), which the console reports
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "400" not in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    OUTPUT.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "sup_bj_browser")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/supervision/complaints/")
    page.click("#complaint-defaults")
    page.wait_for_url("**/supervision/complaints/defaults/")
    assert page.locator("h1").inner_text() == "投诉默认答复时限"
    page.screenshot(path=str(OUTPUT / "complaint-defaults.png"), full_page=True)
    page.fill("input[name='beijing-chaoyang-2026-simple_days']", "0")
    page.click(f"button[form='form-{terms.pk}']")
    assert "简单投诉默认时限（工作日）：请输入1至365之间的整数个工作日。" in page.inner_text("main")
    page.screenshot(path=str(OUTPUT / "complaint-defaults-refused.png"), full_page=True)
    page.fill("input[name='beijing-chaoyang-2026-simple_days']", "10")
    page.click(f"button[form='form-{terms.pk}']")
    page.wait_for_url("**/supervision/complaints/defaults/")
    assert "简单投诉于10个工作日内答复" in page.inner_text("body")
    terms.refresh_from_db()
    assert (terms.simple_days, terms.complex_days) == (10, 30)

    page.goto(f"{live_server.url}/supervision/complaints/{complaint.pk}/")
    assert page.locator("#reopen h2").inner_text() == "重新打开"
    page.fill("#reopen textarea[name=reason]", "投诉人对答复不满意，再次来电")
    page.screenshot(path=str(OUTPUT / "complaint-reopen-form.png"), full_page=True)
    page.fill("#reopen input[name=on]", "2026-02-12")
    page.click("#reopen button[type=submit]")
    page.wait_for_selector("#status")
    assert page.locator("#status").inner_text() == "调查中"
    assert "重新打开：投诉人对答复不满意，再次来电" in page.inner_text("#history")
    assert "2026-02-24" in page.inner_text("#deadline")
    page.screenshot(path=str(OUTPUT / "complaint-reopened.png"), full_page=True)
    assert Complaint.objects.get(pk=complaint.pk).status == "investigating"
    assert not errors, errors
