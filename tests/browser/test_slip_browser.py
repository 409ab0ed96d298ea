"""The slip as a caseworker gets it: the claim list in the admin, the row's preview (records
nothing), the batch action (a POST: the recorded print), the PDF download with the payable
amount in figures and in Chinese capitals."""

import datetime as dt
import subprocess
from decimal import Decimal

import pytest

from claims.models import Claim, SlipPrint
from claims.workflow import claim_transition
from programs.models import Area, Contract
from tests.browser.conftest import OUTPUT
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_caseworker_prints_an_approved_claims_slip_from_the_claim_list(seeded, live_server, page, tmp_path):
    caseworker = UserFactory(username="cw_slip", first_name="赵经办", role="caseworker", area_codes=["411324"])
    reviewer = UserFactory(username="rv_slip", first_name="钱审核", role="reviewer", area_codes=["411300"])
    contract, area = Contract.objects.get(code="zhenping-2026"), Area.objects.get(code="411324")
    person = EnrollmentFactory(person=PersonFactory(name="李建国", area_code="411324"), contract=contract, area=area).person
    claim = Claim.objects.create(claim_no="LP-B-1", contract=contract, person=person, area=area, registered_by=caseworker,
                                 status=Claim.Status.SUBMITTED, enddate=dt.date(2026, 3, 2))
    claim.settlements.create(contract=contract, person=person, area=area, source="manual", setl_id="LP-B-1-1",
                             psn_no=person.psn_no, enddate=dt.date(2026, 3, 2), claim_kind="inpatient",
                             over_cap_amt=Decimal("10000.00"))
    claim_transition(claim=claim, to=Claim.Status.APPROVED, user=reviewer)

    page.goto(f"{live_server.url}/accounts/login/?next=/admin/claims/claim/")
    page.fill("input[name=username]", "cw_slip")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/claims/claim/")
    row = page.locator("#result_list tbody tr", has_text="LP-B-1")
    assert "9,000.00" in row.inner_text() or "9000.00" in row.inner_text()
    # the row's link is a preview (a GET): marked as such, nothing recorded
    preview = page.request.get(live_server.url + row.locator("a", has_text="预览").get_attribute("href"))
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    (tmp_path / "preview.pdf").write_bytes(preview.body())
    text = subprocess.run(["pdftotext", str(tmp_path / "preview.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "预览 · 非正式单据" in text and "原件" not in text
    assert not SlipPrint.objects.exists()
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "print_slips")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "slip-claim-list.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("button[name=index]").click()
    path = tmp_path / "slips.pdf"
    download.value.save_as(path)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "¥9,000.00" in text and "玖仟元整" in text and "531,000.00" in text
    assert list(SlipPrint.objects.values_list("copy_no", "printed_by__username")) == [(1, "cw_slip")]
