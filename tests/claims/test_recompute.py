"""Verification of platform amounts: stored settlements are recomputed and differences kept."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from claims.models import Settlement, SettlementCheck
from claims.services import settlement_explanation, settlements_recompute
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def _settlement(person, setl_id, enddate, inscp, hifp, hifmi, **extra):
    return Settlement.objects.create(
        contract=Contract.objects.get(code="tongliao-2025"), person=person, area=Area.objects.get(code="150502"),
        setl_id=setl_id, psn_no=person.psn_no, enddate=enddate, claim_kind="inpatient", place="in_region",
        inscp_scp_amt=Decimal(inscp), hifp_pay=Decimal(hifp), hifmi_pay=Decimal(hifmi), **extra,
    )


def test_recomputation_accumulates_in_settlement_order_and_flags_differences():
    person = EnrollmentFactory(person=PersonFactory()).person
    # stored out of order on purpose: the May record is second in settlement order
    late = _settlement(person, "S2", dt.date(2025, 5, 2), "70000", "30000", "28400.00")
    early = _settlement(person, "S1", dt.date(2025, 3, 2), "52000", "30000", "4800.01")
    # chunk_size=1: every record in its own chunk, so reads and writes interleave
    summary = settlements_recompute(contract=Contract.objects.get(code="tongliao-2025"), chunk_size=1)
    early_check, late_check = SettlementCheck.objects.get(settlement=early), SettlementCheck.objects.get(settlement=late)
    assert (early_check.engine_payable, early_check.platform_payable, early_check.difference) == (
        Decimal("4800.00"), Decimal("4800.01"), Decimal("-0.01"))
    assert (late_check.engine_payable, late_check.difference) == (Decimal("28400.00"), Decimal("0.00"))
    assert late_check.engine_by_liability == {"critical_illness": "28400.00"}
    assert (summary.records, summary.differing, summary.engine_total) == (2, 1, Decimal("33200.00"))
    steps = settlement_explanation(late)
    assert [s["amount"] for s in steps if s["step"] == "band"] == ["4800.00", "14000.00", "9600.00"]


def test_the_admin_lists_differences_for_reviewers(client, reviewer):
    person = EnrollmentFactory(person=PersonFactory()).person
    _settlement(person, "S1", dt.date(2025, 3, 2), "52000", "30000", "4800.01")
    _settlement(person, "S2", dt.date(2025, 5, 2), "70000", "30000", "28400.00")
    settlements_recompute(contract=Contract.objects.get(code="tongliao-2025"))
    client.force_login(reviewer)
    response = client.get(reverse("admin:claims_settlement_changelist"), {"verification": "differs"})
    assert [s.setl_id for s in response.context["cl"].result_list] == ["S1"]
    response = client.get(reverse("admin:claims_settlement_changelist"), {"verification": "matches"})
    assert [s.setl_id for s in response.context["cl"].result_list] == ["S2"]


def test_a_second_recomputation_replaces_the_checks_and_a_failure_keeps_the_old_ones(monkeypatch):
    from claims import services
    from programs.models import BenefitPlan

    person = EnrollmentFactory(person=PersonFactory()).person
    s1 = _settlement(person, "S1", dt.date(2025, 3, 2), "52000", "30000", "4800.00")
    contract = Contract.objects.get(code="tongliao-2025")
    settlements_recompute(contract=contract)
    settlements_recompute(contract=contract)
    assert SettlementCheck.objects.filter(settlement=s1).count() == 1
    # a run that fails while writing changes nothing
    stranger = PersonFactory()
    _settlement(stranger, "S9", dt.date(2025, 4, 2), "52000", "30000", "0")

    def broken(rows):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_insert_checks", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        settlements_recompute(contract=contract)
    assert list(SettlementCheck.objects.values_list("settlement__setl_id", flat=True)) == ["S1"]
    assert BenefitPlan.objects.get(contract=contract).version == 1
