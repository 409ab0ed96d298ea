"""Renewal simulation (测算, issue 22 items 3–4): the scenario engine over a generated year."""

import copy
import datetime as dt
import io
import json
import random
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from claims.models import Settlement
from claims.services import plan_of, settlements_recompute
from finance.simulation import Scenario, simulate, suggested_per_capita
from programs.models import Area, Contract, Enrollment
from tests.factories import EnrollmentFactory, PersonFactory

CONTRACT = "tongliao-2025"


def _year(seed: int = 7, persons: int = 24) -> Contract:
    """A generated Tongliao year: ordinary and special persons in two counties, one to four
    records each (some large enough to reach the 380,000 cap), one person who left in June
    with a record after it (not covered)."""
    rng = random.Random(seed)
    contract = Contract.objects.get(code=CONTRACT)
    areas = [Area.objects.get(code="150502"), Area.objects.get(code="150521")]
    number = 0
    for i in range(persons):
        area = areas[i % 2]
        enrollment = EnrollmentFactory(person=PersonFactory(), area=area,
                                       category="special" if i % 5 == 0 else "ordinary")
        if i == persons - 1:
            Enrollment.objects.filter(pk=enrollment.pk).update(enrolled_to=dt.date(2025, 6, 30))
        for _ in range(rng.randint(1, 4)):
            number += 1
            inscp = Decimal(rng.choice([9000, 25000, 60000, 150000, 900000]) + rng.randint(0, 9999)) / 1
            hifp = (inscp * Decimal("0.4")).quantize(Decimal("0.01"))
            Settlement.objects.create(
                contract=contract, person=enrollment.person, area=area, setl_id=f"G{number}",
                psn_no=enrollment.person.psn_no, enddate=dt.date(2025, rng.randint(1, 12), rng.randint(1, 28)),
                claim_kind="inpatient", place=rng.choice(["in_region", "out_of_region"]),
                inscp_scp_amt=inscp, hifp_pay=hifp, hifmi_pay=Decimal("0"))
    return contract


@pytest.mark.django_db
def test_the_contracts_own_plan_as_scenario_pays_what_the_recomputation_pays_to_the_fen():
    contract = _year()
    own = copy.deepcopy(plan_of(contract).rules)
    result = simulate(contract, Scenario(plan=own), chunk_size=7)
    recomputed = settlements_recompute(contract=contract)
    assert result.scenario.payable == result.actual.payable == recomputed.engine_total
    assert result.records == recomputed.records == Settlement.objects.filter(contract=contract).count()
    assert result.not_covered == recomputed.not_covered >= 1
    assert sum(result.scenario.by_liability.values()) == result.scenario.payable
    assert sum(result.scenario.by_area.values()) == result.scenario.payable
    assert set(result.scenario.by_area) <= {"科尔沁区", "科尔沁左翼中旗"}
    assert result.scenario.persons_at_cap == result.actual.persons_at_cap >= 1


@pytest.mark.django_db
def test_a_raised_rate_never_lowers_the_total_nor_anyones_payout():
    contract = _year(seed=11)
    raised = copy.deepcopy(plan_of(contract).rules)
    for liability in raised["liabilities"]:
        for row in liability.get("schedule", []):
            for band in row.get("bands", []):
                band["rate"] = str(min(Decimal(band["rate"]) + Decimal("0.05"), Decimal("1")))
    result = simulate(contract, Scenario(plan=raised))
    assert result.scenario.payable > result.actual.payable
    for person, amount in result.actual.per_person.items():
        assert result.scenario.per_person[person] >= amount


@pytest.mark.django_db
def test_a_malformed_scenario_is_refused_naming_what_is_wrong():
    contract = Contract.objects.get(code=CONTRACT)
    bad = copy.deepcopy(plan_of(contract).rules)
    bad["liabilities"][0]["schedule"][0]["bands"][0]["rate"] = "abc"
    with pytest.raises(ValidationError) as exc:
        simulate(contract, Scenario(plan=bad))
    assert "方案" in exc.value.messages[0] or "scenario" in exc.value.messages[0]


@given(payable=st.decimals(min_value=1, max_value=10**9, places=2),
       headcount=st.integers(min_value=1, max_value=3_000_000),
       rate=st.decimals(min_value=0, max_value=Decimal("0.5"), places=4))
def test_the_suggested_premium_reaches_the_target_surplus_rate_and_a_fen_less_does_not(payable, headcount, rate):
    p = suggested_per_capita(payable, headcount, surplus_rate=rate)
    premium = p * headcount
    assert premium - payable >= rate * premium  # surplus rate reached
    lower = (p - Decimal("0.01")) * headcount
    assert p == Decimal("0.01") or lower - payable < rate * lower


def test_the_suggested_premium_for_a_loss_ratio():
    # 1,000,000 paid over 10,000 persons at a 90 % loss ratio: 1,111,111.11… → 111.12 per person
    assert suggested_per_capita(Decimal("1000000"), 10000, loss_ratio=Decimal("0.9")) == Decimal("111.12")
    with pytest.raises(ValidationError):
        suggested_per_capita(Decimal("1"), 1, surplus_rate=Decimal("1"))


@pytest.mark.django_db
def test_the_command_prints_the_json_the_issue_names(tmp_path):
    contract = _year(seed=3, persons=6)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"plan": plan_of(contract).rules, "per_capita": {"resident": "120.00"},
                                "target_surplus_rate": "0.03"}), encoding="utf-8")
    out = io.StringIO()
    call_command("simulate", "--contract", CONTRACT, "--scenario", str(path), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert {"contract", "records", "actual", "scenario", "suggested_per_capita"} <= set(data)
    assert {"payable", "by_liability", "by_area", "persons_at_cap", "loss_ratio", "surplus_rate"} <= set(data["scenario"])
    assert data["contract"] == CONTRACT
    assert Decimal(data["scenario"]["payable"]) == settlements_recompute(contract=contract).engine_total
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CommandError, match="JSON object"):
        call_command("simulate", "--contract", CONTRACT, "--scenario", str(path))


def _settle(contract, enrollment, setl_id, enddate, inscp):
    return Settlement.objects.create(
        contract=contract, person=enrollment.person, area=enrollment.area, setl_id=setl_id,
        psn_no=enrollment.person.psn_no, enddate=enddate, claim_kind="inpatient", place="in_region",
        inscp_scp_amt=Decimal(inscp), hifp_pay=Decimal("0"), hifmi_pay=Decimal("0"))


def _dated_and_suspended():
    """A person who became special on 07-01 (first half ordinary, in the other county) and a
    person suspended from 08-01: both change during the year."""
    from programs.models import EnrollmentPeriod

    special = EnrollmentFactory(category="special", category_detail="特困", attributes_from=dt.date(2025, 7, 1),
                                area=Area.objects.get(code="150502"))
    EnrollmentPeriod.objects.create(enrollment=special, area=Area.objects.get(code="150521"), category="ordinary",
                                    employment="active", status="active", valid_from=dt.date(2025, 1, 1),
                                    valid_to=dt.date(2025, 6, 30))
    suspended = EnrollmentFactory(status="suspended", attributes_from=dt.date(2025, 8, 1),
                                  area=Area.objects.get(code="150502"))
    return special, suspended


@pytest.mark.django_db
def test_persons_with_dated_states_and_suspensions_are_placed_and_paid_as_the_recomputation_pays():
    """The simulation places the common person by a window computed once; a person who became
    special in July (a dated state) and a person suspended from August go the long way, and
    all of them pay what the recomputation pays, per person and in total."""
    contract = _year(seed=3, persons=6)
    special, suspended = _dated_and_suspended()
    _settle(contract, special, "D1", dt.date(2025, 3, 10), "60000")
    _settle(contract, special, "D2", dt.date(2025, 8, 10), "60000")
    _settle(contract, suspended, "D3", dt.date(2025, 5, 10), "60000")
    _settle(contract, suspended, "D4", dt.date(2025, 9, 10), "60000")  # while suspended: not covered
    result = simulate(contract, Scenario(plan=copy.deepcopy(plan_of(contract).rules)), chunk_size=3)
    recomputed = settlements_recompute(contract=contract)
    assert result.scenario.payable == result.actual.payable == recomputed.engine_total
    assert result.not_covered == recomputed.not_covered >= 2
    from claims.models import SettlementCheck

    checks = {s: p for s, p in SettlementCheck.objects.filter(contract=contract).values_list("settlement__setl_id",
                                                                                               "engine_payable")}
    assert result.actual.per_person[special.person_id] == checks["D1"] + checks["D2"] > 0
    assert result.actual.per_person[suspended.person_id] == checks["D3"] > 0 and checks["D4"] == 0
    for side in (result.actual, result.scenario):
        assert sum(side.per_person.values()) == sum(side.by_liability.values()) == side.payable
        assert sum(side.by_category.values()) == sum(side.by_hosp_lv.values()) == side.payable
    # the March record in the first county as ordinary, the August one in the second as special
    assert result.actual.by_category["special"] >= checks["D2"]


@pytest.mark.django_db
def test_a_scenario_whose_base_reads_another_amount_pays_what_that_plan_recomputes():
    """The simulation reads only the amount columns the two plans read: a scenario that
    subtracts `hifmi_pay` (which the contract's plan never reads) gets that column, and pays
    what the recomputation pays once the scenario is the contract's plan."""
    from programs.models import BenefitPlan

    contract = _year(seed=5, persons=10)
    Settlement.objects.filter(contract=contract, setl_id__in=["G1", "G3", "G7"]).update(hifmi_pay=Decimal("2500.00"))
    scenario = copy.deepcopy(plan_of(contract).rules)
    scenario["liabilities"][0]["base"] = [["+", "inscp_scp_amt"], ["-", "hifp_pay"], ["-", "hifmi_pay"]]
    result = simulate(contract, Scenario(plan=scenario), chunk_size=4)
    before = settlements_recompute(contract=contract).engine_total
    BenefitPlan.objects.filter(contract=contract).update(rules=scenario)
    after = settlements_recompute(contract=contract).engine_total
    assert result.actual.payable == before
    assert result.scenario.payable == after < before


def _varied(rules: dict) -> dict:
    """Rates raised by 0.0125 (four decimals) and the critical-illness cap chosen by the
    hospital level: persons whose records sit at two levels have a cap that changes."""
    rules = copy.deepcopy(rules)
    for liability in rules["liabilities"]:
        for row in liability.get("schedule", []):
            for band in row.get("bands", []):
                band["rate"] = str(min(Decimal(band["rate"]) + Decimal("0.0125"), Decimal("1")))
    rules["liabilities"][0]["caps"] = [{"when": {"hosp_lv": ["3", "3A"]}, "amount": "90000"}, {"amount": "120000"}]
    return rules


@pytest.mark.django_db
def test_the_columnar_year_gives_every_figure_the_record_by_record_engine_gives(monkeypatch):
    """`simulate` evaluates the common persons in columns (caps that change between a person's
    records included) and leaves to the record-by-record engine the persons with dated states
    or suspensions; every figure — totals, breakdowns, payouts per person, persons at a cap,
    records not covered — equals the record-by-record run's."""
    contract = _year(seed=13, persons=30)
    levels = ["1", "2", "3", "3A"]
    for i, settlement in enumerate(Settlement.objects.filter(contract=contract).order_by("pk")):
        Settlement.objects.filter(pk=settlement.pk).update(hosp_lv=levels[i % 4] if i % 5 else "")
    special, suspended = _dated_and_suspended()
    for n, (who, day) in enumerate([(special, (3, 10)), (special, (8, 10)), (suspended, (5, 10)),
                                    (suspended, (9, 10))]):
        _settle(contract, who, f"D{n}", dt.date(2025, *day), "160000")
    import finance.simulation as simulation

    left: list = []
    record_pass = simulation._record_pass

    def spy(*args):
        left.append(args[-1])
        return record_pass(*args)

    monkeypatch.setattr(simulation, "_record_pass", spy)
    scenario_plans = (copy.deepcopy(plan_of(contract).rules), _varied(plan_of(contract).rules))
    for plan in scenario_plans:
        scenario = Scenario(plan=plan, target_surplus_rate=Decimal("0.03"))
        left.clear()
        columns = simulate(contract, scenario, chunk_size=6)
        # only the dated and the suspended person go record by record
        assert left == [{special.person_id, suspended.person_id}]
        records = simulate(contract, scenario, chunk_size=6, columnar=False)
        assert columns.as_dict() == records.as_dict()
        for a, b in ((columns.actual, records.actual), (columns.scenario, records.scenario)):
            assert dict(a.per_person) == dict(b.per_person)
            assert a.histogram() == b.histogram()
        assert columns.scenario.payable > 0 and columns.not_covered >= 2
    assert columns.scenario.persons_at_cap >= 1
    assert columns.scenario.payable != columns.actual.payable


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_postgres_reads_the_settlements_ahead_on_a_second_connection_and_stops_it_on_any_error(seeded, monkeypatch):
    """On PostgreSQL outside a transaction the settlements are read by a second thread on its
    own connection while the persons load; the figures are the record-by-record run's. An
    error while reading reaches the caller, and one while the persons load stops the reading:
    no reading thread outlives the call."""
    import threading

    from django.db import connection

    import finance.simulation as simulation
    from tests.conftest import require_or_skip

    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    contract = _year(seed=17, persons=20)
    scenario = Scenario(plan=_varied(plan_of(contract).rules), target_surplus_rate=Decimal("0.03"))
    made = []
    prefetch = simulation._Prefetch

    class Spy(prefetch):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(simulation, "_Prefetch", Spy)

    def readers():
        return [t for t in threading.enumerate() if t.name == "simulation-read"]

    columns = simulate(contract, scenario, chunk_size=5)
    assert [p.threaded for p in made] == [True] and not readers()
    assert columns.as_dict() == simulate(contract, scenario, chunk_size=5, columnar=False).as_dict()
    assert columns.scenario.payable > 0

    def broken(rows, chunk_size):
        yield from ()
        raise RuntimeError("the database went away")

    monkeypatch.setattr(simulation, "_chunks", broken)
    with pytest.raises(RuntimeError, match="went away"):
        simulate(contract, scenario, chunk_size=5)
    assert not readers()
    monkeypatch.undo()
    monkeypatch.setattr(simulation, "_persons", lambda *a: (_ for _ in ()).throw(ValueError("persons failed")))
    with pytest.raises(ValueError, match="persons failed"):
        simulate(contract, scenario, chunk_size=5)
    assert not readers()


@pytest.mark.django_db
def test_a_beijing_year_with_shared_caps_and_item_lines_gives_the_record_by_record_figures(monkeypatch):
    """Beijing's plan has shared caps (the total, the special-drug lists) and per-item caps on
    the out-of-catalog liability: the columns read the item lines and give every figure of the
    record-by-record run; where the columns cannot be exact (an item amount with three
    decimals) the whole year goes record by record and still gives them."""
    import finance.simulation as simulation

    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    area = Area.objects.get(code="110105")
    rng = random.Random(23)
    for i in range(12):
        enrollment = EnrollmentFactory(person=PersonFactory(area_code="110105"), contract=contract, area=area,
                                       health="preexisting" if i % 3 == 0 else "healthy")
        for n in range(rng.randint(1, 5)):
            kind = rng.choice(["inpatient", "inpatient", "special_drug"])
            items = [{"code": rng.choice(["D1", "D2", "I1"]), "type": t, "amount": str(rng.randint(1000, 400000))}
                     for t in rng.sample(["drug", "implant"], rng.randint(0, 2))]
            Settlement.objects.create(
                contract=contract, person=enrollment.person, area=area, setl_id=f"B{i}-{n}",
                psn_no=enrollment.person.psn_no, enddate=dt.date(2026, rng.randint(1, 12), rng.randint(1, 28)),
                claim_kind=kind, hosp_lv=rng.choice(["1", "2", "3", "3A"]), designated=True,
                drug_list=rng.choice(["sd1_domestic", "sd1_overseas", "sd2"]) if kind == "special_drug" else "",
                inscp_scp_amt=Decimal(rng.randint(10000, 900000)), hifp_pay=Decimal(rng.randint(0, 5000)),
                over_cap_amt=Decimal(rng.randint(0, 900000)), drug_amount=Decimal(rng.randint(0, 900000)),
                fulamt_ownpay_amt=Decimal(rng.randint(0, 50000)) + sum(Decimal(i["amount"]) for i in items),
                items=items)
    lowered = copy.deepcopy(plan_of(contract).rules)
    for shared in lowered["shared_caps"]:
        shared["amount"] = "400000"
    for plan in (copy.deepcopy(plan_of(contract).rules), lowered):
        scenario = Scenario(plan=plan, target_surplus_rate=Decimal("0.03"))
        columns = simulate(contract, scenario, chunk_size=7)
        records = simulate(contract, scenario, chunk_size=7, columnar=False)
        assert columns.as_dict() == records.as_dict()
        assert dict(columns.scenario.per_person) == dict(records.scenario.per_person)
    assert columns.scenario.persons_at_cap >= 1 and columns.scenario.payable < columns.actual.payable
    assert set(columns.actual.by_liability) >= {"医保内责任", "医保外责任"}

    settlement = Settlement.objects.filter(contract=contract).exclude(items=[]).first()
    settlement.items = [{**settlement.items[0], "amount": "100.005"}]
    settlement.save()
    used = []
    evaluate = simulation.evaluate_columns
    monkeypatch.setattr(simulation, "evaluate_columns", lambda *a: used.append(1) or evaluate(*a))
    scenario = Scenario(plan=lowered)
    fallen = simulate(contract, scenario, chunk_size=7)
    assert used == [] and fallen.as_dict() == simulate(contract, scenario, columnar=False).as_dict()
    assert fallen.records == Settlement.objects.filter(contract=contract).count()


@pytest.mark.django_db
def test_a_year_without_settlements_gives_zeros_on_both_paths():
    contract = Contract.objects.get(code="zhenping-2026")
    assert not Settlement.objects.filter(contract=contract).exists()
    scenario = Scenario(plan=copy.deepcopy(plan_of(contract).rules), target_surplus_rate=Decimal("0.03"))
    columns = simulate(contract, scenario)
    assert columns.as_dict() == simulate(contract, scenario, columnar=False).as_dict()
    assert (columns.records, columns.not_covered, columns.scenario.payable, columns.scenario.persons_at_cap) == (0, 0, 0, 0)
