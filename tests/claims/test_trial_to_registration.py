"""试算 → registration (issue 23 item 3): the trial result posts every figure it calculated with
to the registration form, which shows them prefilled; registering stores them exactly. Nothing
is registered by the carry itself."""

import datetime as dt
import json
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from claims.models import Claim, Settlement
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


class Fields(HTMLParser):
    """The named fields (with their values as a browser would submit them) of one form (by id),
    or of every form when no id is given."""

    def __init__(self, form_id=None):
        super().__init__()
        self.form_id, self.inside, self.data = form_id, form_id is None, {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[name] = a.get("value") or "on"
            elif kind not in ("submit", "button"):
                self.data[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.form_id is not None:
            self.inside = False


def _fields(html, form_id=None, prefixes=("c-", "r-")):
    parser = Fields(form_id)
    parser.feed(html)
    return {k: v for k, v in parser.data.items() if k.startswith(prefixes) or form_id}


def _trial_post(rows):
    data = {"r-TOTAL_FORMS": "3", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20"}
    for i, row in enumerate(rows):
        data.update({f"r-{i}-{k}": v for k, v in row.items()})
    return data


def _carry(client, person, code, rows):
    response = client.post(reverse("trial", args=[person.pk, code]), _trial_post(rows))
    assert response.status_code == 200 and response.context["results"], response.context["formset"].errors
    carried = _fields(response.text, "trial-to-registration")
    assert carried.pop("from_trial") == "1"
    before = Claim.objects.count(), Settlement.objects.count()
    page = client.post(reverse("claim_register", args=[person.pk, code]), {**carried, "from_trial": "1"})
    assert page.status_code == 200 and (Claim.objects.count(), Settlement.objects.count()) == before
    assert 'class="error"' not in page.text  # prefilled, not validated yet
    return carried, _fields(page.text)


def test_tongliao_trial_figures_prefill_the_registration_and_are_stored_exactly(client, caseworker, horqin_person):
    client.force_login(caseworker)
    carried, shown = _carry(client, horqin_person, "tongliao-2025", [
        {"setl_id": "S-T1", "enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region",
         "inscp_scp_amt": "70,000.00", "hifp_pay": "30000"},
        {"enddate": "2025-05-10", "claim_kind": "inpatient", "place": "in_region",
         "inscp_scp_amt": "12345.67", "hifp_pay": "2000.5"},
    ])
    # the registration form shows every figure of the trial, in its own fields
    assert {k: shown[k] for k in carried if k != "r-TOTAL_FORMS"} == {
        "c-claim_kind": "inpatient", "c-place": "in_region", "c-hosp_lv": "", "c-enddate": "2025-05-10",
        "r-0-setl_id": "S-T1", "r-0-inscp_scp_amt": "70000.00", "r-0-hifp_pay": "30000.00",
        "r-1-inscp_scp_amt": "12345.67", "r-1-hifp_pay": "2000.50",
    }
    assert shown["r-1-setl_id"] == ""  # the trial's made-up "试算2" is not a settlement id
    # the caseworker adds what a trial does not ask for, and registers
    data = {**shown, "c-fixmedins_name": "通辽市医院", "c-begndate": "2025-04-20", "r-1-setl_id": "S-T2",
            "r-0-medfee_sumamt": "70000.00", "r-1-medfee_sumamt": "12345.67"}
    response = client.post(reverse("claim_register", args=[horqin_person.pk, "tongliao-2025"]), data)
    assert response.status_code == 302, _fields(response.text) and response.text[:3000]
    claim = Claim.objects.get()
    assert (claim.claim_kind, claim.place, claim.enddate) == ("inpatient", "in_region", dt.date(2025, 5, 10))
    stored = list(Settlement.objects.filter(claim=claim).order_by("setl_id").values_list("setl_id", "inscp_scp_amt",
                                                                                            "hifp_pay"))
    assert stored == [("S-T1", Decimal("70000.00"), Decimal("30000.00")),
                      ("S-T2", Decimal("12345.67"), Decimal("2000.50"))]


def test_beijing_trial_carries_drug_fields_hospital_level_and_itemised_lines(client):
    area = Area.objects.get(code="110105")
    user = UserFactory(role="caseworker", area_codes=["110105"])
    person = EnrollmentFactory(person=PersonFactory(area_code="110105"), area=area,
                               contract=Contract.objects.get(code="beijing-chaoyang-2026")).person
    client.force_login(user)
    items = [{"code": "D001", "type": "drug", "amount": "12000.00"}, {"code": "I9", "type": "implant", "amount": "3456.78"}]
    carried, shown = _carry(client, person, "beijing-chaoyang-2026", [{
        "setl_id": "BJ-1", "enddate": "2026-03-02", "claim_kind": "inpatient", "hosp_lv": "3A", "designated": "on",
        "drug_list": "sd1_domestic", "inscp_scp_amt": "80000.00", "preselfpay_amt": "1234.56", "hifp_pay": "40000.00",
        "hifmi_pay": "5000.01", "fulamt_ownpay_amt": "15456.78", "drug_amount": "999.99", "items": json.dumps(items),
    }])
    expected = {
        "c-claim_kind": "inpatient", "c-hosp_lv": "3A", "c-enddate": "2026-03-02", "r-0-setl_id": "BJ-1",
        "r-0-designated": "on", "r-0-drug_list": "sd1_domestic", "r-0-inscp_scp_amt": "80000.00",
        "r-0-preselfpay_amt": "1234.56", "r-0-hifp_pay": "40000.00", "r-0-hifmi_pay": "5000.01",
        "r-0-fulamt_ownpay_amt": "15456.78", "r-0-drug_amount": "999.99",
    }
    assert {k: shown[k] for k in expected} == expected
    assert json.loads(shown["r-0-items"]) == items
    data = {**shown, "c-fixmedins_name": "北京朝阳医院", "r-0-medfee_sumamt": "96691.34"}
    response = client.post(reverse("claim_register", args=[person.pk, "beijing-chaoyang-2026"]), data)
    assert response.status_code == 302, response.text[:3000]
    s = Settlement.objects.get(claim=Claim.objects.get())
    assert (s.hosp_lv, s.designated, s.drug_list, s.inscp_scp_amt, s.preselfpay_amt, s.hifp_pay, s.hifmi_pay,
            s.fulamt_ownpay_amt, s.drug_amount, s.items) == (
        "3A", True, "sd1_domestic", Decimal("80000.00"), Decimal("1234.56"), Decimal("40000.00"), Decimal("5000.01"),
        Decimal("15456.78"), Decimal("999.99"), items)


def test_the_carry_button_is_only_for_those_who_register(client, reviewer, horqin_person):
    client.force_login(reviewer)  # runs trials, registers nothing
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]), _trial_post([
        {"enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": "70000"}]))
    assert response.context["results"] and 'id="trial-to-registration"' not in response.text
    assert client.post(reverse("claim_register", args=[horqin_person.pk, "tongliao-2025"]),
                       {"from_trial": "1"}).status_code == 403
