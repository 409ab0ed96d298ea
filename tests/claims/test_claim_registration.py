"""Registering manual claims at the window: documents, deadlines per contract rule, duplicate
protection, the filing window, refusals that write nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from claims import registration
from claims.models import Claim, ClaimDocument, ClaimStatusChange, DocumentRequirement, Settlement
from claims.registration import (
    RegistrationRefused,
    claim_documents_receive,
    claim_extend,
    claim_register,
    deadline_status,
)
from claims.workflow import TransitionRefused, claim_transition
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
TONGLIAO = "tongliao-2025"


def _record(setl_id="M-001", inscp="52000.00", hifp="30000.00", total=None, **extra):
    inscp, hifp = Decimal(inscp), Decimal(hifp)
    return {"setl_id": setl_id, "medfee_sumamt": Decimal(total) if total else inscp, "inscp_scp_amt": inscp,
            "hifp_pay": hifp, **extra}


def _all_documents(contract, kind="inpatient", place="in_region"):
    return registration.requirements_for(program=contract.program, claim_kind=kind, place=place)


def _register(user, person, *, contract_code=TONGLIAO, records=None, documents="all", kind="inpatient",
              place="in_region", received_on=dt.date(2025, 3, 5), begndate=dt.date(2025, 2, 20),
              enddate=dt.date(2025, 3, 2), **kwargs):
    contract = Contract.objects.get(code=contract_code)
    docs = _all_documents(contract, kind, place) if documents == "all" else documents
    return claim_register(
        user=user, person=person, contract=contract, claim_kind=kind, place=place, fixmedins_code="H15050200001",
        fixmedins_name="通辽市医院", begndate=begndate, enddate=enddate, records=records or [_record()],
        documents=docs, received_on=received_on, **kwargs,
    )


def _working_days_after(start: dt.date, n: int, off: set, on: set) -> dt.date:
    """Count by hand: weekdays are workdays unless listed off; listed make-up days are on."""
    day, counted = start, 0
    while counted < n:
        day += dt.timedelta(days=1)
        if (day.weekday() < 5 and day not in off) or day in on:
            counted += 1
    return day


NATIONAL_DAY_2025_OFF = {dt.date(2025, 10, d) for d in range(1, 9)}
NATIONAL_DAY_2025_ON = {dt.date(2025, 9, 28), dt.date(2025, 10, 11)}


# --- registration ------------------------------------------------------------------------


def test_complete_registration_starts_the_ten_working_day_deadline(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)
    assert claim.status == S.DOCUMENTS_COMPLETE
    assert claim.claim_no == f"LP2025150502{claim.pk:07d}"
    assert claim.documents_complete_on == dt.date(2025, 3, 5)
    # 2025-03-05 (Wed) + 10 working days, no holiday in between
    assert claim.due_date == dt.date(2025, 3, 19) and not claim.due_provisional
    assert "10" in claim.due_rule
    settlement = Settlement.objects.get(claim=claim)
    assert (settlement.source, settlement.setl_id, settlement.inscp_scp_amt, settlement.area.code) == (
        "manual", "M-001", Decimal("52000.00"), "150502")
    assert list(ClaimStatusChange.objects.filter(claim=claim).values_list("from_status", "to_status")) == [
        ("", S.REGISTERED), (S.REGISTERED, S.DOCUMENTS_COMPLETE)]


def test_deadline_counts_across_the_2025_national_day_holiday_and_its_make_up_days(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, received_on=dt.date(2025, 9, 26),
                      enddate=dt.date(2025, 9, 20), begndate=dt.date(2025, 9, 10))
    expected = _working_days_after(dt.date(2025, 9, 26), 10, NATIONAL_DAY_2025_OFF, NATIONAL_DAY_2025_ON)
    assert expected == dt.date(2025, 10, 16)  # 9-28 (Sun) and 10-11 (Sat) count, 10-1…10-8 do not
    assert claim.due_date == expected


def test_missing_documents_keep_the_claim_registered_and_the_last_one_completes_it(caseworker, horqin_person):
    contract = Contract.objects.get(code=TONGLIAO)
    docs = _all_documents(contract)
    claim = _register(caseworker, horqin_person, documents=docs[:3])
    assert claim.status == S.REGISTERED and claim.due_date is None
    missing = registration.missing_documents(claim)
    assert [r.code for r in missing] == [r.code for r in docs[3:] if r.required]
    with pytest.raises(TransitionRefused) as exc:
        claim_transition(claim=claim, to=S.DOCUMENTS_COMPLETE, user=caseworker)
    assert exc.value.code == "documents" and missing[0].label in exc.value.messages[0]
    claim = claim_documents_receive(claim=claim, documents=missing, received_on=dt.date(2025, 3, 10), user=caseworker)
    assert claim.status == S.DOCUMENTS_COMPLETE
    assert claim.documents_complete_on == dt.date(2025, 3, 10)
    assert claim.due_date == dt.date(2025, 3, 24)
    assert ClaimDocument.objects.filter(claim=claim).count() == len(docs)


def test_checklist_depends_on_kind_and_place():
    program = Contract.objects.get(code=TONGLIAO).program
    inpatient = {r.code for r in registration.requirements_for(program=program, claim_kind="inpatient", place="in_region")}
    remote = {r.code for r in registration.requirements_for(program=program, claim_kind="inpatient", place="out_of_region")}
    outpatient = {r.code for r in registration.requirements_for(program=program, claim_kind="special_outpatient", place="in_region")}
    assert "diagnosis" in inpatient and "prescription" not in inpatient
    assert remote - inpatient == {"referral"}
    assert "prescription" in outpatient and "discharge_summary" not in outpatient


def test_calculated_step_stores_the_trial_amount(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)
    claim = claim_transition(claim=claim, to=S.CALCULATED, user=caseworker)
    assert claim.trial_payable == Decimal("4800.00")  # (14,000, 22,000] × 60 %
    assert claim.payable is None


# --- out-of-area deadline and its extension -----------------------------------------------


def test_out_of_area_claim_has_25_calendar_days_extendable_to_30_working_days_with_a_reason(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, place="out_of_region", received_on=dt.date(2025, 9, 26),
                      enddate=dt.date(2025, 9, 20), begndate=dt.date(2025, 9, 10))
    assert claim.due_date == dt.date(2025, 10, 21)  # 25 calendar days, holidays included
    with pytest.raises(ValidationError) as exc:
        claim_extend(claim=claim, reason="  ", user=caseworker)
    assert exc.value.code == "reason"
    claim = claim_extend(claim=claim, reason="需赴就医地核查住院费用", user=caseworker)
    expected = _working_days_after(dt.date(2025, 9, 26), 30, NATIONAL_DAY_2025_OFF, NATIONAL_DAY_2025_ON)
    assert claim.due_date == expected == dt.date(2025, 11, 13)
    assert claim.extension_reason == "需赴就医地核查住院费用" and claim.extended_by == caseworker
    with pytest.raises(ValidationError) as exc:
        claim_extend(claim=claim, reason="again", user=caseworker)
    assert exc.value.code == "twice"


def test_local_claim_cannot_be_extended(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        claim_extend(claim=claim, reason="核查", user=caseworker)
    assert exc.value.code == "not_allowed"
    claim.refresh_from_db()
    assert claim.due_date == dt.date(2025, 3, 19) and claim.extension_reason == ""


def test_days_left_and_overdue(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person)  # due 2025-03-19
    assert deadline_status(claim, today=dt.date(2025, 3, 12)).days_left == 5
    on_time = deadline_status(claim, today=dt.date(2025, 3, 19))
    assert (on_time.days_left, on_time.overdue) == (0, False)
    late = deadline_status(claim, today=dt.date(2025, 3, 21))
    assert (late.days_left, late.overdue) == (-2, True)
    claim.status = S.PAID
    assert deadline_status(claim, today=dt.date(2025, 3, 21)).overdue is False


def test_contract_without_deadline_sets_no_due_date(db):
    person = PersonFactory(area_code="110105")
    EnrollmentFactory(person=person, contract=Contract.objects.get(code="beijing-chaoyang-2026"),
                      area=Area.objects.get(code="110105"))
    cw = UserFactory(role="caseworker", area_codes=["110105"])
    claim = _register(cw, person, contract_code="beijing-chaoyang-2026", received_on=dt.date(2026, 3, 5),
                      begndate=dt.date(2026, 2, 20), enddate=dt.date(2026, 3, 2),
                      records=[_record(inscp="40000", hifp="10000")])
    assert claim.status == S.DOCUMENTS_COMPLETE and claim.due_date is None


# --- refusals: nothing written ------------------------------------------------------------


def _nothing_written(before):
    assert (Claim.objects.count(), Settlement.objects.count(), ClaimDocument.objects.count()) == before


def _counts():
    return Claim.objects.count(), Settlement.objects.count(), ClaimDocument.objects.count()


def test_same_settlement_id_is_refused_with_a_link_to_the_existing_claim(caseworker, horqin_person):
    first = _register(caseworker, horqin_person)
    before = _counts()
    with pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, horqin_person, enddate=dt.date(2025, 6, 1), begndate=dt.date(2025, 5, 20),
                  received_on=dt.date(2025, 6, 3))
    assert exc.value.code == "duplicate_setl_id"
    assert exc.value.links == [(f"理赔 {first.claim_no}", f"/claims/{first.pk}/")]
    _nothing_written(before)


def test_overlapping_stay_with_the_same_amount_needs_confirmation_and_is_flagged(caseworker, horqin_person):
    first = _register(caseworker, horqin_person)
    before = _counts()
    with pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, horqin_person, records=[_record("M-002")], begndate=dt.date(2025, 2, 25))
    assert exc.value.code == "possible_duplicate"
    assert exc.value.links[0][1] == f"/claims/{first.pk}/"
    _nothing_written(before)
    second = _register(caseworker, horqin_person, records=[_record("M-002")], begndate=dt.date(2025, 2, 25),
                       confirm_duplicate=True)
    assert second.possible_duplicate_of == first
    assert first.claim_no in second.duplicate_note
    assert first.claim_no in second.status_changes.first().reason


def test_overlap_with_another_amount_or_a_withdrawn_claim_is_no_duplicate(caseworker, horqin_person):
    first = _register(caseworker, horqin_person)
    other = _register(caseworker, horqin_person, records=[_record("M-002", inscp="9000.00", hifp="5000.00")])
    assert other.possible_duplicate_of is None
    claim_transition(claim=first, to=S.WITHDRAWN, user=caseworker, reason="重复申请，撤回")
    third = _register(caseworker, horqin_person, records=[_record("M-003")])
    assert third.possible_duplicate_of is None


def test_instant_settlement_of_the_same_stay_is_flagged(caseworker, horqin_person):
    contract = Contract.objects.get(code=TONGLIAO)
    Settlement.objects.create(contract=contract, person=horqin_person, area=Area.objects.get(code="150502"),
                              source="instant", setl_id="HOSP-9", psn_no=horqin_person.psn_no,
                              begndate=dt.date(2025, 2, 20), enddate=dt.date(2025, 3, 2), claim_kind="inpatient",
                              fixmedins_name="通辽市医院", medfee_sumamt=Decimal("52000.00"))
    with pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, horqin_person)
    assert "HOSP-9" in exc.value.messages[0]


def test_discharge_outside_the_insurance_year_is_refused(caseworker, horqin_person):
    before = _counts()
    with translation.override("zh-hans"), pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, horqin_person, enddate=dt.date(2026, 1, 3), begndate=dt.date(2025, 12, 20))
    assert exc.value.code == "outside_year"
    assert "2026-01-03" in exc.value.messages[0] and "出院日期" in exc.value.messages[0]
    _nothing_written(before)


def test_total_cost_must_equal_its_parts(caseworker, horqin_person):
    before = _counts()
    with pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, horqin_person, records=[_record(total="60000.00")])
    assert exc.value.code == "identity"
    _nothing_written(before)


def test_not_enrolled_person_is_refused(caseworker):
    person = PersonFactory()
    with pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, person)
    assert exc.value.code == "not_enrolled"


@pytest.fixture
def zhenping_person(db):
    person = PersonFactory(area_code="411324")
    EnrollmentFactory(person=person, contract=Contract.objects.get(code="zhenping-2026"), area=Area.objects.get(code="411324"))
    return person


@pytest.fixture
def zhenping_caseworker(db):
    return UserFactory(role="caseworker", area_codes=["411324"])


def _zhenping(user, person, today):
    return _register(user, person, contract_code="zhenping-2026", received_on=today, today=today,
                     begndate=dt.date(2026, 5, 1), enddate=dt.date(2026, 5, 20),
                     records=[_record(inscp="90000", hifp="60000", over_cap_amt=Decimal("10000.00"))])


def test_zhenping_filing_window_closes_twelve_months_after_the_year(zhenping_caseworker, zhenping_person):
    claim = _zhenping(zhenping_caseworker, zhenping_person, dt.date(2027, 12, 31))
    assert claim.status == S.DOCUMENTS_COMPLETE
    assert claim.due_date == dt.date(2028, 1, 21)  # 15 working days; 2028 has no holiday data yet …
    assert claim.due_provisional  # … so the date is provisional
    before = _counts()
    with translation.override("zh-hans"), pytest.raises(RegistrationRefused) as exc:
        _register(zhenping_caseworker, zhenping_person, contract_code="zhenping-2026", today=dt.date(2028, 1, 1),
                  received_on=dt.date(2028, 1, 1), begndate=dt.date(2026, 7, 1), enddate=dt.date(2026, 7, 9),
                  records=[_record("Z-2", inscp="70000", hifp="60000", over_cap_amt=Decimal("1000"))])
    assert exc.value.code == "filing_window"
    assert "2027-12-31" in exc.value.messages[0]
    assert "被保险人最迟应在保险年度结束后12个月内提出补偿申请" in exc.value.messages[0]
    _nothing_written(before)


def test_registration_needs_the_permission(reviewer, horqin_person):
    with pytest.raises(PermissionDenied):
        _register(reviewer, horqin_person)
    assert not Claim.objects.exists()


def test_documents_belong_to_the_claims_program(caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, documents=[])
    foreign = DocumentRequirement.objects.filter(program__code="zhenping-supplementary").first()
    claim_documents_receive(claim=claim, documents=[foreign], received_on=dt.date(2025, 3, 6), user=caseworker)
    assert not ClaimDocument.objects.filter(claim=claim).exists()
