"""A small hand-built world for the KPI and dashboard tests: Tongliao 2025 claims in 科尔沁区
(150502) and 开鲁县 (150523) with known dates, amounts, places, categories, levels and
liabilities, deadline records, and instant settlements with engine checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from itertools import count

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from claims.models import Calculation, Claim, Settlement, SettlementCheck
from insurance_admin.core.deadlines import open_deadline_counts_rebuild
from insurance_admin.core.models import Deadline
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

HORQIN, KAILU, TONGLIAO = "150502", "150523", "150500"
_seq = count(1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def make_claim(*, area: str, registered: dt.date, status: str = "paid", complete: dt.date | None = None,
               due: dt.date | None = None, approved: dt.date | None = None, paid: dt.date | None = None,
               payable: str | None = None, place: str = "in_region", hosp_lv: str = "2",
               hospital: tuple[str, str] = ("H1", "通辽市医院"), liabilities: dict | None = None,
               category: str = "ordinary", contract: str = "tongliao-2025", users=None) -> Claim:
    n = next(_seq)
    contract_obj = Contract.objects.get(code=contract)
    area_obj = Area.objects.get(code=area)
    person = EnrollmentFactory(person=PersonFactory(area_code=area), contract=contract_obj, area=area_obj,
                               category=category).person
    clerk, reviewer = users or _users()
    claim = Claim.objects.create(
        claim_no=f"T{n:06d}", contract=contract_obj, person=person, area=area_obj, status=status, registered_by=clerk,
        documents_complete_on=complete, due_date=due, claim_kind="inpatient", place=place, fixmedins_code=hospital[0],
        fixmedins_name=hospital[1], enddate=registered - dt.timedelta(days=3),
        approved_by=reviewer if approved else None, approved_at=at(approved) if approved else None,
        payable=D(payable) if payable is not None else None, paid_on=paid,
    )
    Claim.objects.filter(pk=claim.pk).update(registered_at=at(registered))
    Settlement.objects.create(contract=contract_obj, person=person, area=area_obj, source="manual", claim=claim,
                              setl_id=f"S{n:06d}", psn_no=person.psn_no, enddate=claim.enddate, claim_kind="inpatient",
                              place=place, hosp_lv=hosp_lv, fixmedins_code=hospital[0], fixmedins_name=hospital[1])
    if liabilities:
        Calculation.objects.create(contract=contract_obj, person=person, claim=claim, setl_id=f"S{n:06d}",
                                   payable=sum((D(v) for v in liabilities.values()), D("0")),
                                   by_liability=liabilities, plan_version=1)
    claim.refresh_from_db()
    return claim


def _users():
    return UserFactory(role="caseworker", area_codes=[TONGLIAO]), UserFactory(role="reviewer", area_codes=[TONGLIAO])


def make_deadline(*, kind: str, area: str, due: dt.date, met: dt.date | None = None, label: str = "x",
                  contract: str = "tongliao-2025", link: str = "") -> Deadline:
    """A deadline row written directly (as a bulk load would), then the contract's open-deadline
    counts recounted (as the rollup refresh does), so the dashboard's counts see it."""
    n = next(_seq)
    deadline = Deadline.objects.create(
        kind=kind, content_type=ContentType.objects.get_for_model(Contract), object_id=10_000 + n, label=label,
        link=link, contract=Contract.objects.get(code=contract), area=Area.objects.get(code=area), role="finance",
        due_date=due, remind_on=due, met_on=met, met_at=at(met) if met else None,
    )
    open_deadline_counts_rebuild(contract_id=deadline.contract_id)
    return deadline


def make_check(*, area: str, enddate: dt.date, platform: str, engine: str, hospital=("H9", "科尔沁区人民医院"),
               contract: str = "tongliao-2025") -> SettlementCheck:
    n = next(_seq)
    contract_obj = Contract.objects.get(code=contract)
    area_obj = Area.objects.get(code=area)
    person = EnrollmentFactory(person=PersonFactory(area_code=area), contract=contract_obj, area=area_obj).person
    settlement = Settlement.objects.create(
        contract=contract_obj, person=person, area=area_obj, source="instant", setl_id=f"I{n:06d}", psn_no=person.psn_no,
        enddate=enddate, claim_kind="inpatient", place="in_region", hosp_lv="3", fixmedins_code=hospital[0],
        fixmedins_name=hospital[1], hifmi_pay=D(platform))
    return SettlementCheck.objects.create(
        settlement=settlement, contract=contract_obj, engine_payable=D(engine), platform_payable=D(platform),
        difference=D(engine) - D(platform), plan_version=1, recomputed_at=timezone.now())


def build_claims():
    """The claims whose figures the tests state by hand (see test_claim_kpis)."""
    users = _users()
    c = {}
    # A: documents complete Mon 2025-09-29, paid Thu 2025-10-09 across National Day (10-01..10-08
    # off): 2 working days (09-30, 10-09), 10 calendar days; on time
    c["A"] = make_claim(area=HORQIN, registered=dt.date(2025, 9, 26), complete=dt.date(2025, 9, 29), due=dt.date(2025, 10, 15),
                        approved=dt.date(2025, 10, 8), paid=dt.date(2025, 10, 9), payable="1000.00", place="in_region",
                        hosp_lv="3A", hospital=("H1", "通辽市医院"), liabilities={"critical_illness": "1000.00"},
                        category="special", users=users)
    # B: paid exactly on its due date (10 working days): on time
    c["B"] = make_claim(area=HORQIN, registered=dt.date(2025, 3, 3), complete=dt.date(2025, 3, 3), due=dt.date(2025, 3, 17),
                        approved=dt.date(2025, 3, 14), paid=dt.date(2025, 3, 17), payable="2000.00", place="out_of_region",
                        hosp_lv="3", hospital=("H2", "北京协和医院"),
                        liabilities={"critical_illness": "1500.00", "accident_basic": "500.00"}, users=users)
    # C: one day late (11 working days)
    c["C"] = make_claim(area=HORQIN, registered=dt.date(2025, 3, 3), complete=dt.date(2025, 3, 3), due=dt.date(2025, 3, 17),
                        approved=dt.date(2025, 3, 17), paid=dt.date(2025, 3, 18), payable="300.50", place="in_region",
                        hosp_lv="3", hospital=("H1", "通辽市医院"), liabilities={"critical_illness": "300.50"}, users=users)
    # D: 1 working day
    c["D"] = make_claim(area=HORQIN, registered=dt.date(2025, 5, 6), complete=dt.date(2025, 5, 6), due=dt.date(2025, 5, 20),
                        approved=dt.date(2025, 5, 6), paid=dt.date(2025, 5, 7), payable="45.25", place="in_region",
                        hosp_lv="2", hospital=("H3", "科尔沁区医院"), liabilities={"student_accident_outpatient": "45.25"},
                        users=users)
    # E (开鲁县): complete 2025-03-03, paid 2025-04-30: 42 working days (Qingming 04-04 off,
    # Sunday 04-27 a make-up working day); late
    c["E"] = make_claim(area=KAILU, registered=dt.date(2025, 3, 1), complete=dt.date(2025, 3, 3), due=dt.date(2025, 3, 17),
                        approved=dt.date(2025, 4, 29), paid=dt.date(2025, 4, 30), payable="7777.77", place="in_region",
                        hosp_lv="2", hospital=("H7", "开鲁县医院"), liabilities={"critical_illness": "7777.77"}, users=users)
    # F: submitted, not approved
    c["F"] = make_claim(area=HORQIN, registered=dt.date(2025, 6, 10), status="submitted", complete=dt.date(2025, 6, 10),
                        due=dt.date(2025, 6, 24), users=users)
    return c
