"""The claim state machine: every allowed and every refused transition, reasons, four eyes,
approval through the engine with a fixed amount."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import translation

from claims.models import Accumulator, Claim, ClaimDocument, ClaimStatusChange, Settlement
from claims.registration import missing_documents
from claims.workflow import TRANSITIONS, TransitionRefused, claim_transition
from programs.models import Area, Contract
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
_numbers = itertools.count(1)


@pytest.fixture
def staff(db):
    return {
        "caseworker": UserFactory(username="cw", role="caseworker", area_codes=["150502"]),
        "reviewer": UserFactory(username="rv", role="reviewer", area_codes=["150500"]),
        "finance": UserFactory(username="fi", role="finance", area_codes=["150500"]),
    }


def _claim(person, registered_by, status=S.REGISTERED, with_record=True):
    contract = Contract.objects.get(code="tongliao-2025")
    decided = {}
    if status in (S.APPROVED, S.PAID):  # already through approval: an amount and an approver exist
        decided = {"payable": Decimal("4800.00"), "approved_by": UserFactory(role="reviewer", area_codes=["150500"])}
    claim = Claim.objects.create(claim_no=f"C{next(_numbers):06d}", contract=contract, person=person,
                                 area=Area.objects.get(code="150502"), registered_by=registered_by, status=status,
                                 enddate=dt.date(2025, 3, 2), fixmedins_name="通辽市医院", place="in_region",
                                 bank_account="6228480000000000000", **decided)
    for requirement in missing_documents(claim):
        ClaimDocument.objects.create(claim=claim, requirement=requirement, received_on=dt.date(2025, 3, 5),
                                     received_by=registered_by)
    if with_record:
        Settlement.objects.create(contract=contract, person=person, area=claim.area, claim=claim, source="manual",
                                  setl_id=f"M-{claim.claim_no}", psn_no=person.psn_no, enddate=dt.date(2025, 3, 2),
                                  claim_kind="inpatient", place="in_region", inscp_scp_amt=Decimal("52000"),
                                  hifp_pay=Decimal("30000"))
    return claim


PAYMENT = {"paid_on": dt.date(2025, 3, 25), "voucher_no": "记-0325-01"}
ACTOR = {"claims.change_claim": "caseworker", "claims.review_claim": "reviewer", "claims.pay_claim": "finance"}
ALLOWED = [(src, dst) for src, targets in TRANSITIONS.items() for dst in targets]
REFUSED = [(src, dst) for src in S.values for dst in S.values if dst not in TRANSITIONS[src]]


@pytest.mark.parametrize(("src", "dst"), ALLOWED)
def test_every_allowed_transition(staff, horqin_person, src, dst):
    claim = _claim(horqin_person, staff["caseworker"], status=src)
    actor = staff[ACTOR[TRANSITIONS[src][dst]]]
    payment = PAYMENT if dst == S.PAID else {}
    changed = claim_transition(claim=claim, to=dst, user=actor, reason="材料不全，需补充住院病历", **payment)
    assert changed.status == dst
    change = ClaimStatusChange.objects.get(claim=claim)
    assert (change.from_status, change.to_status, change.by) == (src, dst, actor)


@pytest.mark.parametrize(("src", "dst"), REFUSED)
def test_every_refused_transition(staff, horqin_person, src, dst):
    claim = _claim(horqin_person, staff["caseworker"], status=src)
    with pytest.raises(TransitionRefused):
        claim_transition(claim=claim, to=dst, user=staff["reviewer"], reason="x")
    claim.refresh_from_db()
    assert claim.status == src and not ClaimStatusChange.objects.exists()


def test_refusal_message_is_chinese(staff, horqin_person):
    claim = _claim(horqin_person, staff["caseworker"], status=S.PAID)
    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as exc:
        claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"])
    assert exc.value.messages == ["状态为“已支付”的理赔不能变为“已审批”。"]


@pytest.mark.parametrize("to", [S.RETURNED, S.REJECTED])
def test_return_and_reject_need_a_reason(staff, horqin_person, to):
    claim = _claim(horqin_person, staff["caseworker"], status=S.SUBMITTED)
    with pytest.raises(TransitionRefused):
        claim_transition(claim=claim, to=to, user=staff["reviewer"], reason="  ")


def test_caseworkers_cannot_approve(staff, horqin_person):
    other = UserFactory(username="cw2", role="caseworker", area_codes=["150502"])
    claim = _claim(horqin_person, other, status=S.SUBMITTED)
    with pytest.raises(PermissionDenied):
        claim_transition(claim=claim, to=S.APPROVED, user=staff["caseworker"])


def test_the_registering_user_cannot_approve_even_as_reviewer(staff, horqin_person):
    claim = _claim(horqin_person, staff["reviewer"], status=S.SUBMITTED)
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as exc:
        claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"])
    assert str(exc.value) == "审批人不能是登记该理赔的经办员。"
    assert not Accumulator.objects.exists()


def test_four_eyes_holds_in_the_database(staff, horqin_person):
    claim = _claim(horqin_person, staff["reviewer"], status=S.SUBMITTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(approved_by=staff["reviewer"])


def test_approval_runs_the_engine_and_fixes_the_amount(staff, horqin_person):
    claim = _claim(horqin_person, staff["caseworker"], status=S.SUBMITTED)
    approved = claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"])
    assert approved.payable == Decimal("4800.00") and approved.approved_by == staff["reviewer"]
    assert list(approved.calculations.values_list("payable", flat=True)) == [Decimal("4800.00")]
    acc = Accumulator.objects.get(person=horqin_person, code="critical_illness")
    assert (acc.cumulative_base, acc.cumulative_paid) == (Decimal("22000.00"), Decimal("4800.00"))
    paid = claim_transition(claim=approved, to=S.PAID, user=staff["finance"], **PAYMENT)
    assert paid.payable == Decimal("4800.00")
    # a second claim for the same person continues from the approved totals (worked example)
    second = _claim(horqin_person, staff["caseworker"], status=S.SUBMITTED, with_record=False)
    Settlement.objects.create(contract=second.contract, person=horqin_person, area=second.area, claim=second,
                              source="manual", setl_id="M-2", psn_no=horqin_person.psn_no, enddate=dt.date(2025, 5, 2),
                              claim_kind="inpatient", place="in_region", inscp_scp_amt=Decimal("70000"),
                              hifp_pay=Decimal("30000"))
    assert claim_transition(claim=second, to=S.APPROVED, user=staff["reviewer"]).payable == Decimal("28400.00")


def test_a_claim_without_records_cannot_be_approved(staff, horqin_person):
    claim = _claim(horqin_person, staff["caseworker"], status=S.SUBMITTED, with_record=False)
    with pytest.raises(TransitionRefused):
        claim_transition(claim=claim, to=S.APPROVED, user=staff["reviewer"])
    claim.refresh_from_db()
    assert claim.status == S.SUBMITTED and claim.payable is None
