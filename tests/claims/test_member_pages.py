"""The member-service pages and claim reports by phone (报案) through the real views: record a
use, the refusal on the page, the person page's section, the monthly report and its exports,
scoping (another county's person is a 404) and permissions; a report that becomes a claim."""

import csv
import datetime as dt
import io
from decimal import Decimal as D

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, ClaimReport, EntitlementKind, EntitlementUse
from claims.registration import requirements_for
from programs.models import Area, Contract
from tests.claims.test_claim_views import _form_data
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
BEIJING = "beijing-chaoyang-2026"


@pytest.fixture
def chaoyang_worker(db):
    return UserFactory(username="cw_chaoyang", first_name="朝阳区经办员", role="caseworker", area_codes=["110105"])


@pytest.fixture
def beijing_person(db):
    person = PersonFactory(area_code="110105", name="赵健康")
    EnrollmentFactory(person=person, contract=Contract.objects.get(code=BEIJING), area=Area.objects.get(code="110105"))
    return person


def _kind(name):
    return EntitlementKind.objects.get(group__contract__code=BEIJING, name=name)


def _record(client, person, name, on="2026-03-02", amount="", note=""):
    return client.post(reverse("member_services", args=[person.pk, BEIJING]),
                       {"kind": _kind(name).pk, "used_on": on, "purchase_amount": amount, "note": note})


def test_caseworker_records_uses_and_the_sixth_is_refused_on_the_page(client, chaoyang_worker, beijing_person):
    client.force_login(chaoyang_worker)
    url = reverse("member_services", args=[beijing_person.pk, BEIJING])
    page = client.get(url)
    assert page.status_code == 200 and "就医陪护" in page.text and "体重管理年精选设备" in page.text
    for day in range(2, 7):
        assert _record(client, beijing_person, "上门护理类", on=f"2026-03-{day:02d}").status_code == 302
    refused = _record(client, beijing_person, "就医陪护", on="2026-03-09")
    assert refused.status_code == 400 and "本年度护理类服务已用满 5 次" in refused.text
    assert EntitlementUse.objects.filter(person=beijing_person).count() == 5
    purchase = _record(client, beijing_person, "指定药房门店购药", amount="4,500.00")
    assert purchase.status_code == 302
    use = EntitlementUse.objects.get(kind__name="指定药房门店购药")
    assert (use.purchase_amount, use.subsidy, use.recorded_by) == (D("4500.00"), D("400.00"), chaoyang_worker)
    page = client.get(url)
    assert "已按单次补贴上限 400.00 元核减" in page.text
    section = client.get(reverse("person_detail", args=[beijing_person.pk]) + "?year=2026")
    assert 'id="person-member-services"' in section.text
    nursing_row = section.text.split('id="group-nursing"')[1].split("</tr>")[0]
    assert '<td class="num used">5</td>' in nursing_row and '<td class="num left">0</td>' in nursing_row
    drug_row = section.text.split('id="group-drug_discount"')[1].split("</tr>")[0]
    assert '<td class="num left">11</td>' in drug_row and "1,400.00" in drug_row


def test_another_county_gets_404_and_read_only_roles_cannot_record(client, chaoyang_worker, beijing_person, caseworker,
                                                                   supervisor):
    url = reverse("member_services", args=[beijing_person.pk, BEIJING])
    client.force_login(caseworker)  # 科尔沁区
    assert client.get(url).status_code == 404
    assert _record(client, beijing_person, "就医陪护").status_code == 404
    beijing_supervisor = UserFactory(username="sup_bj", role="supervisor", area_codes=["110105"])
    client.force_login(beijing_supervisor)
    page = client.get(url)
    assert page.status_code == 200 and 'id="member-service-form"' not in page.text
    assert _record(client, beijing_person, "就医陪护").status_code == 403
    assert not EntitlementUse.objects.exists()


def test_monthly_report_and_its_exports(client, chaoyang_worker, beijing_person):
    client.force_login(chaoyang_worker)
    other = PersonFactory(area_code="110105")
    EnrollmentFactory(person=other, contract=Contract.objects.get(code=BEIJING), area=Area.objects.get(code="110105"))
    _record(client, beijing_person, "就医陪护", on="2026-03-02")
    _record(client, other, "就医陪护", on="2026-03-31")
    _record(client, beijing_person, "就医陪护", on="2026-04-01")
    _record(client, beijing_person, "指定药房门店购药", on="2026-03-05", amount="4500.00", note="=HYPERLINK(1)")
    _record(client, other, "购药配送到家", on="2026-03-06", amount="1234.56")
    url = reverse("member_service_report")
    page = client.get(url, {"contract": BEIJING, "month": "2026-03"})
    assert page.status_code == 200
    assert '<th class="num" id="total-uses">4</th>' in page.text and '<th class="num" id="total-subsidy">523.46</th>' in page.text
    rows = list(csv.reader(io.StringIO(client.get(url, {"contract": BEIJING, "month": "2026-03", "export": "csv"})
                                       .content.decode("utf-8-sig"))))
    by_kind = {r[1]: r for r in rows[2:-1]}
    assert by_kind["就医陪护"][2:] == ["2", "2", "0.00", "0.00"]
    assert by_kind["指定药房门店购药"][2:] == ["1", "1", "4500.00", "400.00"]
    assert by_kind["购药配送到家"][2:] == ["1", "1", "1234.56", "123.46"]
    assert rows[-1] == ["合计", "", "4", "", "5734.56", "523.46"]
    book = openpyxl.load_workbook(io.BytesIO(client.get(url, {"contract": BEIJING, "month": "2026-03", "export": "xlsx"})
                                             .content))
    sheet = book.active
    assert [c.value for c in sheet[sheet.max_row]] == ["合计", None, 4, None, D("5734.56"), D("523.46")] or \
        [c.value for c in sheet[sheet.max_row]] == ["合计", None, 4, None, 5734.56, 523.46]
    # another area's caseworker sees the contract not at all
    tongliao = UserFactory(username="cw_tl2", role="caseworker", area_codes=["150502"])
    client.force_login(tongliao)
    page = client.get(url, {"contract": BEIJING, "month": "2026-03"})
    assert page.status_code == 200 and "523.46" not in page.text and "赵健康" not in page.text


def test_claim_reported_by_phone_becomes_a_claim(client, caseworker, horqin_person, supervisor):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    add = reverse("phone_report_add") + f"?person={horqin_person.pk}&contract={contract.code}"
    page = client.get(add)
    assert page.status_code == 200 and "异地就医备案或转诊证明" in page.text
    docs = requirements_for(program=contract.program, claim_kind="inpatient", place="in_region")
    response = client.post(add, {"caller_name": "包小山", "caller_phone": "13912345678", "caller_relation": "儿子",
                                 "reported_at": "2025-03-03T09:30", "summary": "住院十天，已出院",
                                 "told_to_bring": [d.pk for d in docs]})
    report = ClaimReport.objects.get()
    assert response.status_code == 302 and response.url == reverse("phone_report_detail", args=[report.pk])
    assert (report.person, report.area.code, report.received_by, report.claim) == (horqin_person, "150502", caseworker, None)
    assert report.reported_at == timezone.make_aware(dt.datetime(2025, 3, 3, 9, 30))
    assert set(report.told_to_bring.all()) == set(docs)
    listing = client.get(reverse("phone_report_list"))
    assert "包小山" in listing.text and "13912345678" in listing.text
    detail = client.get(response.url)
    register_url = reverse("claim_register", args=[horqin_person.pk, contract.code]) + f"?report={report.pk}"
    assert register_url.replace("&", "&amp;") in detail.text or register_url in detail.text
    form = client.get(register_url)
    assert "住院十天，已出院" in form.text and 'id="from-phone-report"' in form.text
    created = client.post(register_url, _form_data(contract, docs))
    claim = Claim.objects.get()
    assert created.status_code == 302
    report.refresh_from_db()
    assert report.claim == claim and report.converted_at is not None
    assert claim.claim_no in client.get(reverse("phone_report_detail", args=[report.pk])).text
    # a second registration from the same report is not linked again (the report is closed)
    again = client.get(register_url)
    assert 'id="from-phone-report"' not in again.text
    # the supervisor reads the report with the caller masked, and cannot record one
    client.force_login(supervisor)
    listing = client.get(reverse("phone_report_list") + "?state=all")
    assert "包小山" not in listing.text and "13912345678" not in listing.text and "139****5678" in listing.text
    assert client.get(add).status_code == 403


def test_a_failed_registration_leaves_the_report_open(client, caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    report = ClaimReport.objects.create(contract=contract, area=Area.objects.get(code="150502"), person=horqin_person,
                                        caller_name="包小山", caller_phone="13912345678", reported_at=timezone.now(),
                                        received_by=caseworker)
    client.force_login(caseworker)
    url = reverse("claim_register", args=[horqin_person.pk, contract.code]) + f"?report={report.pk}"
    response = client.post(url, _form_data(contract, [], **{"c-enddate": "2024-03-02", "c-begndate": "2024-02-20"}))
    assert response.status_code == 200 and not Claim.objects.exists()
    report.refresh_from_db()
    assert report.claim is None


def test_phone_report_of_another_area_is_404_and_a_person_is_found_by_id_number(client, caseworker, horqin_person,
                                                                              chaoyang_worker, beijing_person):
    beijing = Contract.objects.get(code=BEIJING)
    client.force_login(chaoyang_worker)
    response = client.post(reverse("phone_report_add") + f"?contract={BEIJING}",
                           {"insured_name": "赵某", "area": Area.objects.get(code="110105").pk, "caller_name": "赵某某",
                            "caller_phone": "13800001111", "reported_at": "2026-03-03T10:00"})
    report = ClaimReport.objects.get()
    assert response.status_code == 302 and report.person is None and report.contract == beijing
    assert client.post(reverse("phone_report_detail", args=[report.pk]),
                       {"certno": beijing_person.certno}).status_code == 302
    report.refresh_from_db()
    assert report.person == beijing_person
    client.force_login(caseworker)  # 科尔沁区
    assert client.get(reverse("phone_report_detail", args=[report.pk])).status_code == 404
    assert client.get(reverse("phone_report_add") + f"?person={beijing_person.pk}").status_code == 404
    assert "赵某某" not in client.get(reverse("phone_report_list") + "?state=all").text
