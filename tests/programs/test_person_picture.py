"""A person's whole picture (issue 23 item 2): the person page lists their claims of every year,
the year-to-date totals with the remaining sum insured and the deductible still to reach, their
instant settlements with the engine's check; the search opens an exact match directly, answers
an out-of-area match without data, and tells a short ID number that it has 18 characters."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, ClaimDocument, Settlement, SettlementCheck
from claims.registration import missing_documents
from claims.workflow import claim_transition
from insurance_admin.core.masking import mask_certno
from programs.models import Area, Contract
from programs.person_sections import _providers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
_numbers = itertools.count(1)


def _submitted_claim(person, caseworker, *, inscp, hifp, enddate=dt.date(2025, 3, 2), contract_code="tongliao-2025"):
    contract = Contract.objects.get(code=contract_code)
    claim = Claim.objects.create(claim_no=f"P{next(_numbers):06d}", contract=contract, person=person,
                                 area=Area.objects.get(code="150502"), registered_by=caseworker, status=S.SUBMITTED,
                                 enddate=enddate, fixmedins_name="通辽市医院", place="in_region",
                                 bank_account="6228480000000000000")
    for requirement in missing_documents(claim):
        ClaimDocument.objects.create(claim=claim, requirement=requirement, received_on=enddate, received_by=caseworker)
    Settlement.objects.create(contract=contract, person=person, area=claim.area, claim=claim, source="manual",
                              setl_id=f"M-{claim.claim_no}", psn_no=person.psn_no, enddate=enddate,
                              claim_kind="inpatient", place="in_region", inscp_scp_amt=Decimal(inscp),
                              hifp_pay=Decimal(hifp))
    return claim


def _critical_illness_row(body: str) -> str:
    start = body.index("<td>大病保险</td>")
    return body[start:body.index("</tr>", start)]


def test_the_claims_register_their_section_without_programs_importing_them():
    from claims.person_picture import person_claims_section

    assert person_claims_section in _providers


def test_remaining_sum_insured_after_two_approved_claims(client, caseworker, reviewer, horqin_person):
    client.force_login(caseworker)
    url = reverse("person_detail", args=[horqin_person.pk]) + "?year=2025"
    row = _critical_illness_row(client.get(url).text)
    # nothing approved yet: the whole 14,000 deductible to reach, the whole 380,000 left
    assert '<td class="num deductible-left">14,000.00</td>' in row and '<td class="num remaining">380,000.00</td>' in row

    first = claim_transition(claim=_submitted_claim(horqin_person, caseworker, inscp="40000", hifp="30000"),
                             to=S.APPROVED, user=reviewer)
    row = _critical_illness_row(client.get(url).text)
    assert first.payable == Decimal("0.00")  # base 10,000 below the deductible
    assert '<td class="num deductible-left">4,000.00</td>' in row and '<td class="num remaining">380,000.00</td>' in row

    second = claim_transition(claim=_submitted_claim(horqin_person, caseworker, inscp="74000", hifp="30000",
                                                     enddate=dt.date(2025, 4, 2)), to=S.APPROVED, user=reviewer)
    # base 10,000 → 54,000: 14,000–30,000 at 60 % = 9,600; 30,000–50,000 at 70 % = 14,000; 50,000–54,000 at 80 % = 3,200
    assert second.payable == Decimal("26800.00")
    body = client.get(url).text
    row = _critical_illness_row(body)
    assert '<td class="num">54,000.00</td>' in row and '<td class="num">26,800.00</td>' in row
    assert '<td class="num deductible-left">0.00</td>' in row
    assert '<td class="num remaining">353,200.00</td>' in row  # 380,000 − 26,800
    # both claims listed with status, amount and slip link
    for claim, amount in ((first, "0.00"), (second, "26,800.00")):
        assert f'<a href="{reverse("claim_detail", args=[claim.pk])}">{claim.claim_no}</a>' in body
        assert f'<a href="{reverse("claim_slip", args=[claim.pk])}" target="_blank">预览</a>' in body
        assert f'<td class="num">{amount}</td>' in body
    assert body.count("已审批") >= 2


def test_claims_of_every_year_and_instant_settlements_with_their_check(client, caseworker, horqin_person):
    tongliao = Contract.objects.get(code="tongliao-2025")
    older = _submitted_claim(horqin_person, caseworker, inscp="40000", hifp="30000")
    Claim.objects.filter(pk=older.pk).update(status=S.WITHDRAWN)
    instant = Settlement.objects.create(
        contract=tongliao, person=horqin_person, area=Area.objects.get(code="150502"), source="instant",
        setl_id="I-1", psn_no=horqin_person.psn_no, enddate=dt.date(2025, 5, 6), claim_kind="inpatient",
        place="in_region", fixmedins_name="科尔沁区医院", medfee_sumamt=Decimal("60000"), inscp_scp_amt=Decimal("60000"),
        hifp_pay=Decimal("30000"), hifmi_pay=Decimal("9000"))
    SettlementCheck.objects.create(settlement=instant, contract=tongliao, engine_payable=Decimal("9600.00"),
                                   platform_payable=Decimal("9000.00"), difference=Decimal("600.00"), plan_version=1,
                                   recomputed_at=timezone.now())
    client.force_login(caseworker)
    body = client.get(reverse("person_detail", args=[horqin_person.pk]) + "?year=2026").text
    assert older.claim_no in body and "已撤回" in body  # a claim of another year than the one selected
    assert "科尔沁区医院" in body and "60,000.00" in body
    assert '<td class="num">9,000.00</td><td class="num">9,600.00</td>' in body and "600.00" in body


def test_an_exact_id_number_or_psn_no_opens_the_person(client, caseworker, horqin_person):
    client.force_login(caseworker)
    for q in (horqin_person.certno, horqin_person.psn_no):
        response = client.get(reverse("home"), {"q": q, "year": 2025})
        assert response.status_code == 302
        assert response.url == f"{reverse('person_detail', args=[horqin_person.pk])}?year=2025"
    # a name is never opened directly, even when one person matches
    assert client.get(reverse("home"), {"q": "包宝", "year": 2025}).status_code == 200


def test_a_person_of_another_county_is_answered_without_their_data(client, caseworker, kailu_person):
    client.force_login(caseworker)
    for q in (kailu_person.certno, kailu_person.psn_no):
        response = client.get(reverse("home"), {"q": q, "year": 2025})
        assert response.status_code == 200
        body = response.text
        assert '<p class="notfound" id="out-of-area">该参保人不在您负责的区域，由其参保地经办。</p>' in body
        assert kailu_person.name not in body and kailu_person.name[0] + "*" not in body
        assert mask_certno(kailu_person.certno) not in body
        assert f"/persons/{kailu_person.pk}/" not in body
    # a number nobody has is still "not found", not "another county"
    body = client.get(reverse("home"), {"q": "11010519491231002X", "year": 2025}).text
    assert "不在您负责的区域" not in body and "在您负责的区域内未找到" in body


def test_an_unrestricted_user_is_never_told_another_county(client, kailu_person):
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(root)
    assert client.get(reverse("home"), {"q": kailu_person.certno, "year": 2025}).status_code == 302


@pytest.mark.parametrize("digits", [14, 17])
def test_a_short_id_number_is_told_it_has_18_characters(client, caseworker, horqin_person, digits):
    client.force_login(caseworker)
    body = client.get(reverse("home"), {"q": horqin_person.certno[:digits], "year": 2025}).text
    assert f"身份证号码应为18位，当前为{digits}位。" in body
