"""The whole window, in a real browser: a caseworker registers and submits a claim, a reviewer
approves it, the amount is fixed on the page."""

import datetime as dt
import subprocess

import pytest

from claims.models import Claim, SlipPrint
from tests.browser.conftest import OUTPUT
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_caseworker_registers_and_submits_reviewer_approves(seeded, live_server, page, browser):
    UserFactory(username="cw_b", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])
    UserFactory(username="rv_b", first_name="审核员", role="reviewer", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person
    url = live_server.url

    _login(page, url, "cw_b")
    page.goto(f"{url}/persons/{person.pk}/?year=2025")
    page.click("text=登记理赔")
    page.select_option("select[name=c-claim_kind]", "inpatient")
    page.select_option("select[name=c-place]", "in_region")
    page.fill("input[name=c-fixmedins_name]", "通辽市医院")
    page.fill("input[name=c-begndate]", "2025-02-20")
    page.fill("input[name=c-enddate]", "2025-03-02")
    page.fill("input[name=r-0-setl_id]", "M-B-001")
    page.fill("input[name=r-0-medfee_sumamt]", "52000.00")
    page.fill("input[name=r-0-inscp_scp_amt]", "52000.00")
    page.fill("input[name=r-0-hifp_pay]", "30000.00")
    for box in page.locator("input[name=c-documents]").all()[:3]:  # three documents only
        box.check()
    page.fill("input[name=c-received_on]", "2025-03-05")
    page.click("button:has-text('登记')")
    page.wait_for_url("**/claims/*/")
    claim = Claim.objects.get()
    assert "已登记" in page.inner_text("h1")
    assert "缺" in page.inner_text("#documents")

    # the rest of the documents arrive; the deadline starts
    for box in page.locator("#documents input[name=documents]").all():
        box.check()
    page.fill("#documents input[name=received_on]", "2025-09-26")
    page.click("text=登记已收材料")
    page.wait_for_selector("#deadline .due")
    assert "2025-10-16" in page.inner_text("#deadline")  # 10 working days over National Day
    page.click("button[value=calculated]")
    page.wait_for_selector("#trial-payable")
    assert page.inner_text("#trial-payable") == "4,800.00"
    page.click("button[value=submitted]")
    page.wait_for_selector("h1:has-text('已提交审核')")
    assert page.locator("button[value=approved]").count() == 0  # never their own approval
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "claim-submitted.png"), full_page=True)

    reviewer = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    _login(reviewer, url, "rv_b")
    reviewer.goto(f"{url}/claims/?status=submitted")
    reviewer.click(f"text={claim.claim_no}")
    reviewer.click("button[value=approved]")  # the confirmation box is required: the browser does not submit
    assert "已提交审核" in reviewer.inner_text("h1")
    reviewer.check("#confirm-review")
    reviewer.click("button[value=approved]")
    reviewer.wait_for_selector("#payable")
    assert reviewer.inner_text("#payable") == "4,800.00"
    assert "已审批" in reviewer.inner_text("h1")
    reviewer.screenshot(path=str(OUTPUT / "claim-approved.png"), full_page=True)
    claim.refresh_from_db()
    assert claim.status == "approved" and str(claim.payable) == "4800.00"
    assert claim.documents_complete_on == dt.date(2025, 9, 26)

    # the slip's preview (a GET): downloaded with the reviewer's session, read back with pdftotext;
    # it is marked as a preview and uses up nothing
    href = reviewer.get_attribute("#slip-preview", "href")
    response = reviewer.request.get(f"{url}{href}" if href.startswith("/") else href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = OUTPUT / "claim-slip-preview.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "4,800.00" in text and "肆仟捌佰元整" in text
    assert claim.claim_no in text and "预览 · 非正式单据" in text and "原件" not in text
    assert not SlipPrint.objects.exists()
    # printing is the button: a POST with the page's CSRF token, into a new tab
    with reviewer.context.expect_event("response", lambda r: r.url.endswith("/slip.pdf")) as printed:
        reviewer.click("#slip-link")
    assert (printed.value.request.method, printed.value.status) == ("POST", 200)
    assert printed.value.headers["content-type"] == "application/pdf"
    assert list(SlipPrint.objects.values_list("copy_no", "printed_by__username")) == [(1, "rv_b")]
    reviewer.reload()
    assert "补打" in reviewer.inner_text("#calculation")  # the next print is a reprint
