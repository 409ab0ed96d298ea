"""Cover and attributes on the record's discharge date (issue 19, item 1): at registration,
试算, approval, in hospital batches and the recomputation alike."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from claims import imports
from claims.models import (
    Accumulator,
    Calculation,
    Claim,
    ClaimDocument,
    HospitalBatch,
    Settlement,
    SettlementCheck,
)
from claims.registration import (
    RegistrationRefused,
    claim_register,
    missing_documents,
    requirements_for,
)
from claims.services import settlements_recompute
from claims.workflow import TransitionRefused, claim_transition
from programs.models import Area, Contract, EnrollmentPeriod
from tests.claims.hospital_files import csv_bytes, media_root, tongliao_row, upload  # noqa: F401 (autouse)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
D = dt.date
EXITED = "2025-11-10 不在保障期内：参保期为 2025-01-01 至 2025-09-30，此后已终止参保。"
_numbers = itertools.count(1)


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


@pytest.fixture
def staff(db):
    return {
        "caseworker": UserFactory(username="cw", role="caseworker", area_codes=["150502"]),
        "reviewer": UserFactory(username="rv", role="reviewer", area_codes=["150500"]),
    }


@pytest.fixture
def terminated(db):
    """终止参保 from 2025-10-01 (the registry's exit: enrolled_to 2025-09-30)."""
    return EnrollmentFactory(person=PersonFactory(name="包宝山"), status="terminated", enrolled_to=D(2025, 9, 30)).person


@pytest.fixture
def became_special(db):
    """Ordinary until 06-30, 特困 (special) from 2025-07-01."""
    return _special_from_july()


def _special_from_july():
    enrollment = EnrollmentFactory(category="special", category_detail="特困", attributes_from=D(2025, 7, 1))
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=Area.objects.get(code="150502"), category="ordinary",
                                    employment="active", status="active", valid_from=D(2025, 1, 1), valid_to=D(2025, 6, 30))
    return enrollment.person


def _submitted(person, registered_by, enddate, inscp="52000", hifp="30000"):
    """A claim already through registration (e.g. registered before the exit reached the registry)."""
    contract = Contract.objects.get(code="tongliao-2025")
    claim = Claim.objects.create(claim_no=f"T{next(_numbers):06d}", contract=contract, person=person,
                                 area=Area.objects.get(code="150502"), registered_by=registered_by, status=S.SUBMITTED,
                                 enddate=enddate, fixmedins_name="通辽市医院", place="in_region")
    for requirement in missing_documents(claim):
        ClaimDocument.objects.create(claim=claim, requirement=requirement, received_on=enddate, received_by=registered_by)
    Settlement.objects.create(contract=contract, person=person, area=claim.area, claim=claim, source="manual",
                              setl_id=f"M-{claim.claim_no}", psn_no=person.psn_no, enddate=enddate, claim_kind="inpatient",
                              place="in_region", inscp_scp_amt=Decimal(inscp), hifp_pay=Decimal(hifp))
    return claim


def test_registration_refuses_a_discharge_after_the_exit_naming_the_period(staff, terminated, tongliao):
    claims_before, settlements_before = Claim.objects.count(), Settlement.objects.count()
    with translation.override("zh-hans"), pytest.raises(RegistrationRefused) as exc:
        claim_register(
            user=staff["caseworker"], person=terminated, contract=tongliao, claim_kind="inpatient", place="in_region",
            fixmedins_code="H15050200001", fixmedins_name="通辽市医院", begndate=D(2025, 11, 1), enddate=D(2025, 11, 10),
            records=[{"setl_id": "M-1110", "medfee_sumamt": Decimal("52000.00"), "inscp_scp_amt": Decimal("52000.00"),
                      "hifp_pay": Decimal("30000.00")}],
            documents=requirements_for(program=tongliao.program, claim_kind="inpatient", place="in_region"),
            received_on=D(2025, 11, 12), today=D(2025, 11, 12),
        )
    assert (exc.value.code, exc.value.messages) == ("not_covered", [EXITED])
    assert (Claim.objects.count(), Settlement.objects.count()) == (claims_before, settlements_before)


def test_the_window_page_shows_the_refusal(client, staff, terminated, tongliao):
    client.force_login(staff["caseworker"])
    data = {"c-claim_kind": "inpatient", "c-place": "in_region", "c-fixmedins_code": "H15050200001",
            "c-fixmedins_name": "通辽市医院", "c-begndate": "2025-11-01", "c-enddate": "2025-11-10",
            "c-received_on": "2025-11-12", "c-payee_name": "", "c-bank_name": "", "c-bank_account": "", "c-notes": "",
            "r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20",
            "r-0-setl_id": "M-1110", "r-0-medfee_sumamt": "52000.00", "r-0-inscp_scp_amt": "52000.00",
            "r-0-hifp_pay": "30000.00"}
    response = client.post(reverse("claim_register", args=[terminated.pk, "tongliao-2025"]), data,
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert EXITED in response.content.decode()
    assert not Claim.objects.exists()


def test_approval_refuses_it_and_pays_nothing(staff, terminated):
    claim = _submitted(terminated, staff["caseworker"], D(2025, 11, 10))
    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as exc:
        claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"])
    assert exc.value.messages == [EXITED]
    claim.refresh_from_db()
    assert (claim.status, claim.payable) == (S.SUBMITTED, None)
    assert not Accumulator.objects.exists() and not Calculation.objects.exists()


def test_the_same_person_before_the_exit_is_paid(staff, terminated):
    claim = _submitted(terminated, staff["caseworker"], D(2025, 9, 30))
    assert claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"]).payable == Decimal("4800.00")


def test_trial_says_why_and_calculates_nothing(client, staff, terminated):
    client.force_login(staff["caseworker"])
    data = {"r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20",
            "r-0-enddate": "2025-11-10", "r-0-claim_kind": "inpatient", "r-0-place": "in_region",
            "r-0-inscp_scp_amt": "52000", "r-0-hifp_pay": "30000"}
    response = client.post(reverse("trial", args=[terminated.pk, "tongliao-2025"]), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response.context["results"] is None
    assert response.context["not_covered"] == EXITED


def test_a_person_special_from_july_pays_ordinary_rates_in_march_and_special_in_august(staff, became_special):
    # March, ordinary: base 22,000 → (14,000, 22,000] × 60 % = 4,800.00
    march = _submitted(became_special, staff["caseworker"], D(2025, 3, 10))
    assert claim_transition(claim=march, to=S.APPROVED, user=staff["reviewer"]).payable == Decimal("4800.00")
    # August, special, cumulative (22,000, 44,000]: 8,000 × 65 % + 14,000 × 75 % = 15,700.00
    # (as ordinary it would be 8,000 × 60 % + 14,000 × 70 % = 14,600.00)
    august = _submitted(became_special, staff["caseworker"], D(2025, 8, 10))
    assert claim_transition(claim=august, to=S.APPROVED, user=staff["reviewer"]).payable == Decimal("15700.00")
    acc = Accumulator.objects.get(person=became_special, code="critical_illness")
    assert (acc.cumulative_base, acc.cumulative_paid) == (Decimal("44000.00"), Decimal("20500.00"))


def test_the_deductible_is_14000_in_march_and_7000_in_august(staff):
    # two persons with the same history, one record each, base 22,000
    march, august = _special_from_july(), _special_from_july()
    march_claim = _submitted(march, staff["caseworker"], D(2025, 3, 10))
    august_claim = _submitted(august, staff["caseworker"], D(2025, 8, 10))
    assert claim_transition(claim=march_claim, to=S.APPROVED, user=staff["reviewer"]).payable == Decimal("4800.00")
    # (7,000, 22,000] × 65 % = 9,750.00
    assert claim_transition(claim=august_claim, to=S.APPROVED, user=staff["reviewer"]).payable == Decimal("9750.00")
    steps = Calculation.objects.get(claim=august_claim).explanation
    assert any(s.get("step") == "deductible" and s.get("amount") == "7000.00" for s in steps), steps


def test_recomputation_flags_the_record_after_the_exit_and_pays_it_nothing(terminated, tongliao):
    area = Area.objects.get(code="150502")
    common = {"contract": tongliao, "person": terminated, "area": area, "psn_no": terminated.psn_no,
              "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": Decimal("52000"),
              "hifp_pay": Decimal("30000"), "hifmi_pay": Decimal("4800.00")}
    before = Settlement.objects.create(setl_id="S-0930", enddate=D(2025, 9, 30), **common)
    after = Settlement.objects.create(setl_id="S-1110", enddate=D(2025, 11, 10), **common)
    with translation.override("zh-hans"):
        summary = settlements_recompute(contract=tongliao)
    assert (summary.records, summary.not_covered, summary.engine_total) == (2, 1, Decimal("4800.00"))
    ok, flagged = SettlementCheck.objects.get(settlement=before), SettlementCheck.objects.get(settlement=after)
    assert (ok.engine_payable, ok.not_covered) == (Decimal("4800.00"), "")
    assert (flagged.engine_payable, flagged.engine_by_liability, flagged.difference) == (
        Decimal("0.00"), {}, Decimal("-4800.00"))
    assert flagged.not_covered == EXITED


def test_hospital_batch_row_discharged_after_the_exit_is_refused_with_the_period(terminated, tongliao):
    finance = UserFactory(username="fin", role="finance", area_codes=["150500"])
    rows = [tongliao_row("S1", terminated, enddate="2025-09-30"), tongliao_row("S2", terminated, enddate="2025-11-10")]
    batch = imports.batch_upload(contract=tongliao, month=D(2025, 11, 1), uploaded_file=upload(csv_bytes(rows), "2025-11.csv"),
                                 user=finance)
    batch = imports.batch_validate(batch.pk)
    assert batch.status == HospitalBatch.Status.REFUSED
    with translation.override("zh-hans"):
        errors = [(e["row"], e["column"], e["message"]) for e in imports.rendered_errors(batch.errors)]
    assert errors == [(3, "enddate（出院日期）", EXITED)]
    assert not Settlement.objects.exists()
