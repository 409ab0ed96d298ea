"""Issue 23 item 4: pages show names, not the contracts' internal codes. Each role's main
pages are rendered with a registered, approved and printed claim in place; the seed contract
codes must not appear in the text people read (links and form values may carry them)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from claims import documents
from claims.models import Claim, DocumentRequirement
from claims.workflow import claim_transition
from programs.models import Contract
from tests.claims.test_claim_registration import _register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
SEED_CODES = ("tongliao-2025", "taikang-2025", "zhenping-2026", "beijing-chaoyang-2026")


class _Text(HTMLParser):
    """The text of a page: element content, without attributes, scripts and styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def test_page_text_leaves_out_attributes_and_scripts():
    text = page_text('<a href="/claims/new/1/tongliao-2025/" title="x">登记</a><script>var c="tongliao-2025"</script>'
                     '<option value="tongliao-2025">通辽</option>')
    assert text == "登记 通辽"


@pytest.fixture
def staff(db):
    return {
        "caseworker": UserFactory(username="cw_n", role="caseworker", area_codes=["150502"]),
        "reviewer": UserFactory(username="rv_n", role="reviewer", area_codes=["150500"]),
        "finance": UserFactory(username="fi_n", role="finance", area_codes=["150500"]),
        "supervisor": UserFactory(username="sv_n", role="supervisor", area_codes=["150500"]),
        "administrator": UserFactory(username="ad_n", role="administrator", area_codes=["150500"]),
    }


@pytest.fixture
def printed_claim(staff, horqin_person):
    claim = _register(staff["caseworker"], horqin_person)
    claim = claim_transition(claim=claim, to=S.CALCULATED, user=staff["caseworker"])
    claim = claim_transition(claim=claim, to=S.SUBMITTED, user=staff["caseworker"])
    claim = claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"])
    documents.slips_issue(claims=[claim], user=staff["caseworker"])
    return claim


def _pages(claim, role):
    person = claim.person
    pages = [reverse("home"), reverse("person_detail", args=[person.pk]), reverse("claim_list"),
             reverse("claim_detail", args=[claim.pk]), reverse("claim_deadlines")]
    if role == "caseworker":
        pages += [reverse("claim_register", args=[person.pk, "tongliao-2025"]), reverse("trial", args=[person.pk, "tongliao-2025"])]
    if role in ("administrator", "supervisor"):
        pages += ["/admin/programs/contract/", "/admin/claims/claim/", "/admin/claims/settlementslip/",
                  "/admin/claims/documentrequirement/", "/admin/programs/enrollment/", "/admin/programs/benefitplan/"]
    if role == "administrator":
        pages += ["/admin/accounts/user/", "/admin/claims/claimterms/"]
    return pages


@pytest.mark.parametrize("role", ["caseworker", "reviewer", "finance", "supervisor", "administrator"])
def test_no_contract_code_in_the_text_of_the_main_pages(client, staff, printed_claim, role):
    client.force_login(staff[role])
    shown = {}
    for path in _pages(printed_claim, role):
        response = client.get(path, follow=True)  # a supervisor's home leads to the dashboard
        if response.status_code == 403:
            continue
        assert response.status_code == 200, path
        text = page_text(response.content.decode())
        leaked = [code for code in SEED_CODES if code in text]
        if leaked:
            shown[path] = leaked
    assert shown == {}


def test_the_slip_number_and_the_contract_read_as_the_office_writes_them(client, staff, printed_claim):
    client.force_login(staff["supervisor"])
    text = page_text(client.get("/admin/claims/settlementslip/").content.decode())
    assert "TL2025-000001" in text and "通辽市2025年度城乡居民大病医疗保险服务项目协议书" in text


def test_document_requirements_show_their_claim_kinds_and_places_as_words(client, staff):
    client.force_login(staff["administrator"])
    contract = Contract.objects.get(code="tongliao-2025")
    requirement = DocumentRequirement.objects.filter(program=contract.program).exclude(claim_kinds=[]).first()
    listing = page_text(client.get("/admin/claims/documentrequirement/").content.decode())
    assert "住院" in listing and "inpatient" not in listing and "out_of_region" not in listing
    change = client.get(f"/admin/claims/documentrequirement/{requirement.pk}/change/").content.decode()
    assert 'value="inpatient"' in change and "意外伤害住院" in page_text(change)
    # ticking words stores the codes the checklist reads
    response = client.post(f"/admin/claims/documentrequirement/{requirement.pk}/change/", {
        "program": requirement.program_id, "code": requirement.code, "label": requirement.label,
        "claim_kinds": ["inpatient", "special_outpatient"], "places": ["out_of_region"], "required": "on", "position": "3",
    })
    assert response.status_code == 302
    requirement.refresh_from_db()
    assert requirement.claim_kinds == ["inpatient", "special_outpatient"] and requirement.places == ["out_of_region"]
    assert requirement.applies_to("special_outpatient", "out_of_region") and not requirement.applies_to("inpatient", "in_region")
