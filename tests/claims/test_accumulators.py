"""Approved calculations persist accumulators; concurrent approvals can never exceed a cap."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from claims.engine import SettlementRecord
from claims.models import Accumulator, Calculation
from claims.services import accumulators_of, calculation_commit, engine_key, trial_calculate
from programs.models import Contract
from tests.conftest import require_or_skip
from tests.factories import EnrollmentFactory, PersonFactory


def _record(setl_id, inscp, hifp, enddate=dt.date(2025, 3, 2)):
    return SettlementRecord(setl_id=setl_id, psn_no="x", enddate=enddate, claim_kind="inpatient", place="in_region",
                            hosp_lv="2", inscp_scp_amt=Decimal(inscp), hifp_pay=Decimal(hifp))


@pytest.mark.django_db
def test_two_approvals_accumulate_like_the_worked_example():
    person = EnrollmentFactory().person
    contract = Contract.objects.get(code="tongliao-2025")
    first = calculation_commit(contract=contract, person=person, records=[_record("S1", "52000", "30000")])
    second = calculation_commit(contract=contract, person=person, records=[_record("S2", "70000", "30000", dt.date(2025, 5, 2))])
    assert [c.payable for c in first + second] == [Decimal("4800.00"), Decimal("28400.00")]
    row = Accumulator.objects.get(person=person, contract=contract, code="critical_illness")
    assert (row.cumulative_base, row.cumulative_paid) == (Decimal("62000.00"), Decimal("33200.00"))
    stored = Calculation.objects.get(setl_id="S2")
    assert stored.by_liability == {"critical_illness": "28400.00"}
    assert [s["amount"] for s in stored.explanation if s["step"] == "band"] == ["4800.00", "14000.00", "9600.00"]
    assert stored.plan_version == 1


@pytest.mark.django_db
def test_trial_calculation_starts_from_approved_totals_and_writes_nothing():
    person = EnrollmentFactory().person
    contract = Contract.objects.get(code="tongliao-2025")
    calculation_commit(contract=contract, person=person, records=[_record("S1", "52000", "30000")])
    evaluation, before = trial_calculate(contract=contract, person=person, records=[_record("T1", "70000", "30000")])
    assert evaluation.results[0].payable == Decimal("28400.00")
    assert before.paid[(engine_key(person), "critical_illness")] == Decimal("4800.00")
    assert Calculation.objects.count() == 1
    assert accumulators_of(person, contract).paid[(engine_key(person), "critical_illness")] == Decimal("4800.00")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_cap_is_never_exceeded_under_concurrent_approvals(seeded):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    person = EnrollmentFactory(person=PersonFactory()).person
    contract = Contract.objects.get(code="tongliao-2025")
    # Alone, each record pays 200,600.00; both read as "first" would pay 401,200 > the 380,000 cap.
    barrier = threading.Barrier(2)
    results, errors = [], []

    def approve(setl_id):
        try:
            barrier.wait(timeout=10)
            results.extend(calculation_commit(contract=contract, person=person, records=[_record(setl_id, "250000", "0")]))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=approve, args=(f"C{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(c.payable for c in results) == [Decimal("179400.00"), Decimal("200600.00")]
    row = Accumulator.objects.get(person=person, contract=contract, code="critical_illness")
    assert row.cumulative_paid == Decimal("380000.00")
    assert row.cumulative_base == Decimal("500000.00")
