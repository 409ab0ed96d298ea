"""Fund position and clearing computed from the ledgers and the claims tables."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.utils import timezone

from claims.models import Claim, Settlement
from finance import selectors, services
from finance.models import FinanceTerms
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

D = Decimal
HORQIN, KAILU = "150502", "150523"


_SEQ = itertools.count(1)


def instant(contract, area_code, amount, field="hifmi_pay"):
    n = next(_SEQ)
    area = Area.objects.get(code=area_code)
    person = EnrollmentFactory(contract=contract, area=area, person=PersonFactory(area_code=area_code)).person
    return Settlement.objects.create(contract=contract, person=person, area=area, source="instant", setl_id=f"S{n}",
                                     psn_no=person.psn_no, enddate=dt.date(contract.year, 3, 2), claim_kind="inpatient",
                                     **{field: D(amount)})


def manual(contract, area_code, amount):
    n = next(_SEQ)
    area = Area.objects.get(code=area_code)
    person = EnrollmentFactory(contract=contract, area=area, person=PersonFactory(area_code=area_code)).person
    cw, rev = UserFactory(), UserFactory()
    return Claim.objects.create(claim_no=f"C{n}", contract=contract, person=person, area=area, status="approved",
                                registered_by=cw, approved_by=rev, approved_at=timezone.now(), payable=D(amount), enddate=contract.period_start)


@pytest.fixture
def tongliao(finance_user):
    contract = Contract.objects.select_related("program__region").get(code="tongliao-2025")
    # two county books of 1,000 residents each: 114,230.00 each, fund 228,460.00
    services.premium_schedule_generate(contract=contract, user=finance_user,
                                       headcounts={HORQIN: {"resident": 1000}, KAILU: {"resident": 1000}})
    return contract


@pytest.mark.django_db
def test_tongliao_position_per_county_and_pooled(tongliao):
    instant(tongliao, HORQIN, "100000.00")
    manual(tongliao, KAILU, "50000.00")
    instant(tongliao, KAILU, "2000.00")
    pooled = selectors.fund_position(tongliao)
    assert (pooled.premium_income, pooled.claims_manual, pooled.claims_instant, pooled.medical_spend) == (
        D("228460.00"), D("50000.00"), D("102000.00"), D("152000.00"))
    assert pooled.loss_ratio_display == "66.53%"
    kailu = selectors.fund_position(tongliao, Area.objects.get(code=KAILU))
    assert (kailu.premium_income, kailu.medical_spend) == (D("114230.00"), D("52000.00"))


@pytest.mark.django_db
def test_cycle_clearing_surplus_above_3_percent_goes_back_to_the_basic_fund(tongliao):
    # spend 205,614.00 → balance 22,846.00 = 10 % of 228,460.00; cap 3 % = 6,853.80
    instant(tongliao, HORQIN, "105614.00")
    instant(tongliao, KAILU, "100000.00")
    statement = selectors.clearing_statement(tongliao)
    assert [b[0] for b in statement.books] == ["科尔沁区", "开鲁县"]
    assert len(statement.missing) == 7  # the other counties have no premium allocated: shown as missing
    c = statement.clearing
    assert (c.fund, c.medical_spend, c.surplus, c.rate_display) == (D("228460.00"), D("205614.00"), D("22846.00"), "10.00%")
    assert (c.insurer_kept, c.returned_to_fund) == (D("6853.80"), D("15992.20"))


@pytest.mark.django_db
def test_cycle_clearing_exactly_3_percent_is_kept_whole(tongliao):
    instant(tongliao, HORQIN, "121606.20")
    instant(tongliao, KAILU, "100000.00")
    c = selectors.clearing_statement(tongliao).clearing
    assert (c.surplus, c.insurer_kept, c.returned_to_fund, c.rate_display) == (D("6853.80"), D("6853.80"), D("0.00"), "3.00%")


@pytest.mark.django_db
def test_cycle_clearing_loss_is_shared_4_to_6_and_one_county_offsets_another(tongliao):
    instant(tongliao, HORQIN, "200000.00")  # 科尔沁区 alone overspends 85,770.00
    instant(tongliao, KAILU, "38460.00")
    c = selectors.clearing_statement(tongliao).clearing
    assert (c.overspend, c.authority_share, c.insurer_share) == (D("10000.00"), D("4000.00"), D("6000.00"))
    assert "科尔沁区: fund 114,230.00, medical spend 200,000.00" in c.formula_lines


@pytest.mark.django_db
def test_assessment_deductions_and_recoveries_enter_the_clearing(tongliao, finance_user):
    instant(tongliao, HORQIN, "100000.00")
    services.penalty_impose(contract=tongliao, kind="assessment_deduction", amount=D("8460.00"), area=Area.objects.get(code=KAILU),
                            imposed_on=dt.date(2025, 12, 1), reason="assessment", user=finance_user)
    services.penalty_impose(contract=tongliao, kind="recovery", amount=D("10000.00"), area=Area.objects.get(code=HORQIN),
                            imposed_on=dt.date(2025, 12, 1), reason="non-compliant payments", user=finance_user)
    c = selectors.clearing_statement(tongliao).clearing
    assert (c.fund, c.medical_spend) == (D("220000.00"), D("90000.00"))


@pytest.fixture
def taikang(finance_user):
    contract = Contract.objects.select_related("program__region").get(code="taikang-2025")
    # 54,667 × 150 = 8,200,050.00; operating cost 5 % = 410,002.50; usable 7,790,047.50
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 54667}})
    return contract


@pytest.mark.django_db
def test_taikang_rolling_surplus_exactly_30_percent_raises_no_warning(taikang):
    # commitment 90 % × 7,790,047.50 = 7,011,042.75; claims 4,551,042.75 leave a shortfall of
    # 2,460,000.00 = 30 % × last year's 8,200,000.00 exactly
    manual(taikang, "411627", "4551042.75")
    position = selectors.fund_position(taikang)
    assert (position.operating_cost, position.usable_income) == (D("410002.50"), D("7790047.50"))
    assert position.usage.new_rolling_surplus == D("2460000.00")
    assert position.usage.financing_adjustment_warning is False
    assert position.warnings == ["usage_below_commitment"]


@pytest.mark.django_db
def test_taikang_rolling_surplus_one_fen_below_30_percent_warns(taikang):
    manual(taikang, "411627", "4551042.76")
    position = selectors.fund_position(taikang)
    assert position.usage.new_rolling_surplus == D("2459999.99")
    assert "rolling_surplus_below_threshold" in position.warnings
    assert selectors.clearing_statement(taikang).usage.usage_rate_display == "58.42%"


@pytest.mark.django_db
def test_premium_suspension_lists_unpaid_overdue_installments_only_where_the_terms_say_so(finance_user):
    zhenping = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=zhenping, user=finance_user, headcounts={"411324": {"active": 1000, "retired": 0}})
    first = zhenping.premium_installments.get(seq=1)
    assert selectors.premium_suspension(zhenping, dt.date(2026, 3, 31)) == []
    assert selectors.premium_suspension(zhenping, dt.date(2026, 4, 1)) == [first]
    services.installment_record_receipt(installment=first, amount=D("100000.00"), received_on=dt.date(2026, 4, 2), user=finance_user)
    assert selectors.premium_suspension(zhenping, dt.date(2026, 4, 3)) == [first]  # partly paid still suspends
    services.installment_record_receipt(installment=first, amount=D("84000.00"), received_on=dt.date(2026, 4, 3), user=finance_user)
    assert selectors.premium_suspension(zhenping, dt.date(2026, 4, 4)) == []
    FinanceTerms.objects.filter(contract=zhenping).update(unpaid_suspends_liability=False)
    assert selectors.premium_suspension(zhenping, dt.date(2026, 7, 1)) == []
    assert [i.seq for i in selectors.installments_overdue(zhenping, dt.date(2026, 7, 1))] == [2]


@pytest.mark.django_db
def test_a_city_wide_premium_is_carried_by_a_city_level_book_so_the_pooled_fund_is_whole(finance_user):
    # The demo's Tongliao: the premium computed on the city-wide provisional headcount
    # (2,217,285 × 114.23 = 253,280,465.55), no county split; claims booked to 科尔沁区.
    contract = Contract.objects.select_related("program__region").get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user)
    manual(contract, HORQIN, "26599.70")
    instant(contract, KAILU, "1286400.00")
    statement = selectors.clearing_statement(contract)
    assert statement.books == [
        ("科尔沁区", None, D("26599.70")),  # spend shown, fund not invented
        ("开鲁县", None, D("1286400.00")),
        ("2025 通辽市（未分配到旗县）", D("253280465.55"), D("0.00")),
    ]
    assert (statement.total_fund, statement.total_spend) == (D("253280465.55"), D("1312999.70"))
    assert len(statement.missing) == 9  # every county book: premium not allocated
    c = statement.clearing
    assert (c.fund, c.medical_spend, c.balance) == (D("253280465.55"), D("1312999.70"), D("251967465.85"))
    assert (c.insurer_kept, c.returned_to_fund) == (D("7598413.97"), D("244369051.88"))

    from finance import reports

    books = reports.clearing_document(contract).sections[0]
    assert books.rows == [
        ["科尔沁区", None, D("26599.70"), None],
        ["开鲁县", None, D("1286400.00"), None],
        ["2025 通辽市（未分配到旗县）", D("253280465.55"), D("0.00"), D("253280465.55")],
        ["合计（市级统筹）", D("253280465.55"), D("1312999.70"), D("251967465.85")],
    ]
    assert books.notes[0].startswith("以下账簿未分配保费收入（计入市级未分配行，合计含全部基金）：2025 科尔沁区、")


@pytest.mark.django_db
def test_county_books_with_their_own_premium_leave_only_the_unallocated_rest_to_the_city_line(tongliao, finance_user):
    # 科尔沁区 and 开鲁县 carry 114,230.00 each; a city-level assessment deduction of 1,000.00
    # is in no county book: the city line carries −1,000.00 so the total is the contract's fund
    services.penalty_impose(contract=tongliao, kind="assessment_deduction", amount=D("1000.00"), area=None,
                            imposed_on=dt.date(2025, 12, 1), reason="assessment", user=finance_user)
    instant(tongliao, HORQIN, "100000.00")
    statement = selectors.clearing_statement(tongliao)
    assert statement.books == [("科尔沁区", D("114230.00"), D("100000.00")), ("开鲁县", D("114230.00"), D("0.00")),
                               ("2025 通辽市（未分配到旗县）", D("-1000.00"), D("0.00"))]
    assert statement.clearing.fund == selectors.fund_position(tongliao).fund == D("227460.00")
