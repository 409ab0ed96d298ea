"""Books the contracts define (issue 19 item 5): a guarantee deposit withheld from the premium
as the contract's finance terms say (Zhenping's contract deposit, Taikang's annual deposit of
10 % of the year's fund), and Tongliao's nine county books each carrying their share of the
premium by the headcount snapshot, so the clearing has no "not allocated" remainder."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation

from finance import basis, reports, selectors, services
from finance.calculations import allocate_premium
from finance.models import FinanceTerms, GuaranteeDeposit, LedgerEntry
from programs.models import Area, Contract, HeadcountSnapshot
from tests.finance.test_fund_position import manual

pytestmark = pytest.mark.django_db

# --- the withheld deposit --------------------------------------------------------------------


def test_taikang_requires_its_annual_deposit_of_10_percent_of_the_years_fund_with_the_schedule(finance_user):
    # seed 002 art. 38: 10 % of the year's fund is the annual deposit. 54,667 × 150 =
    # 8,200,050.00; deposit 820,005.00. The contract names two transfers and no deduction from
    # them (DOMAIN.md §5): the deposit is required with the schedule and held as it is paid in
    contract = Contract.objects.get(code="taikang-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 54667}})
    deposit = GuaranteeDeposit.objects.get(contract=contract)
    assert (deposit.kind, deposit.required, deposit.held) == ("annual", D("820005.00"), D("0.00"))
    assert not LedgerEntry.objects.filter(deposit=deposit).exists()
    assert [i.withheld for i in contract.premium_installments.order_by("seq")] == [D("0.00"), D("0.00")]
    with translation.override("zh-hans"):
        assert deposit.basis_display == "年度基金8,200,050.00的10% = 820,005.00；年度案件处理完毕且双方无异议后30日内返还"
    services.deposit_record_payment(deposit=deposit, amount=D("820005.00"), paid_on=dt.date(2025, 4, 1), user=finance_user)
    deposit.refresh_from_db()
    assert deposit.held == D("820005.00")
    # returned 30 days after the year's cases are closed without objection (the deposit's rule)
    deposit = services.deposit_cases_closed(deposit=deposit, closed_on=dt.date(2026, 3, 31), objection=False, user=finance_user)
    assert deposit.return_due == dt.date(2026, 4, 30)


def test_taikang_terms_switched_to_withholding_take_the_deposit_from_the_september_transfer(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    selectors.terms_for(contract)
    FinanceTerms.objects.filter(contract=contract).update(deposit_withheld=True)
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 54667}})
    deposit = GuaranteeDeposit.objects.get(contract=contract)
    assert (deposit.kind, deposit.required, deposit.held) == ("annual", D("820005.00"), D("820005.00"))
    rows = [(i.seq, i.amount, i.withheld, i.cash_due) for i in contract.premium_installments.order_by("seq")]
    assert rows == [(1, D("4100025.00"), D("0.00"), D("4100025.00")), (2, D("4100025.00"), D("820005.00"), D("3280020.00"))]
    with translation.override("zh-hans"):
        assert deposit.basis_display == ("年度基金8,200,050.00的10% = 820,005.00，从第2期保费中预留；"
                                         "年度案件处理完毕且双方无异议后30日内返还")
        assert contract.premium_installments.get(seq=2).terms_display == "保费总额的50%；其中820,005.00元预留为年度保证金"


def test_zhenping_keeps_its_contract_deposit(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 3001, "retired": 1200}})
    deposit = GuaranteeDeposit.objects.get(contract=contract)
    assert (deposit.kind, deposit.required, deposit.held) == ("contract", D("138046.00"), D("138046.00"))


def test_the_deposit_follows_the_finance_terms_not_the_contract(finance_user):
    # Tongliao's terms withhold nothing; give Beijing's terms a 5 % assessment deposit and its
    # single payment of 3,912,285.00 carries 195,614.25 of it
    tongliao = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=tongliao, user=finance_user)
    assert not GuaranteeDeposit.objects.filter(contract=tongliao).exists()
    beijing = Contract.objects.get(code="beijing-chaoyang-2026")
    selectors.terms_for(beijing)
    FinanceTerms.objects.filter(contract=beijing).update(deposit_share=D("0.05"), deposit_kind="assessment")
    services.premium_schedule_generate(contract=beijing, user=finance_user)
    deposit = GuaranteeDeposit.objects.get(contract=beijing)
    assert (deposit.kind, deposit.required) == ("assessment", D("195614.25"))
    assert beijing.premium_installments.get().withheld == D("195614.25")


# --- Tongliao's county books -----------------------------------------------------------------

#: a provisional snapshot per county summing to the contract's 2,217,285 residents (test figures)
COUNTIES = {"150502": 600000, "150581": 80000, "150523": 280000, "150524": 150000, "150525": 330000,
            "150526": 220000, "150521": 350000, "150522": 170000, "150571": 37285}


def _snapshot(contract, counts, kind="provisional"):
    for code, n in counts.items():
        HeadcountSnapshot.objects.create(contract=contract, kind=kind, as_of=dt.date(2025, 4, 30), area=Area.objects.get(code=code),
                                         category="ordinary", employment="active", headcount=n, per_capita=D("114.23"),
                                         premium=D("114.23") * n)


@pytest.fixture
def tongliao(finance_user):
    contract = Contract.objects.select_related("program__region").get(code="tongliao-2025")
    _snapshot(contract, COUNTIES)
    services.premium_schedule_generate(contract=contract, user=finance_user)  # city-wide 2,217,285 × 114.23
    return contract


def test_the_nine_county_premiums_are_headcount_times_per_capita_and_sum_to_the_contracts(tongliao):
    allocated = selectors.county_premiums(tongliao)
    assert allocated == {code: D("114.23") * n for code, n in sorted(COUNTIES.items())}
    assert allocated["150502"] == D("68538000.00")
    assert allocated["150571"] == D("4259065.55")
    assert sum(allocated.values()) == selectors.premium_income(tongliao) == D("253280465.55")
    assert selectors.premium_income(tongliao, Area.objects.get(code="150523")) == D("31984400.00")


def test_the_clearing_statement_has_no_unallocated_remainder_and_each_county_a_real_usage_rate(tongliao):
    manual(tongliao, "150502", "685380.00")  # 1 % of 科尔沁区's 68,538,000.00
    statement = selectors.clearing_statement(tongliao)
    assert statement.missing == []
    assert len(statement.books) == 9
    assert not any("未分配" in label for label, _fund, _spend in statement.books)
    assert ("科尔沁区", D("68538000.00"), D("685380.00")) in statement.books
    assert statement.total_fund == statement.clearing.fund == D("253280465.55")
    horqin = basis.fund_figures(tongliao, Area.objects.get(code="150502"), *basis.contract_year(tongliao))
    assert (horqin.premium_income, horqin.usage_rate_display) == (D("68538000.00"), "1.00%")
    rows = reports.clearing_document(tongliao).sections[0].rows
    assert [r[0] for r in rows][-1] == "合计（市级统筹）" and len(rows) == 10
    assert reports.clearing_document(tongliao).sections[0].notes == []


def test_a_snapshot_that_does_not_match_the_premium_headcount_is_allocated_to_the_fen(finance_user):
    # the registry counted 7 residents in three counties (e.g. a demo registry): the
    # 253,280,465.55 premium is split 3 : 2 : 2, the remainder fen to the largest fraction
    contract = Contract.objects.select_related("program__region").get(code="tongliao-2025")
    _snapshot(contract, {"150502": 3, "150523": 2, "150581": 2})
    services.premium_schedule_generate(contract=contract, user=finance_user)
    allocated = selectors.county_premiums(contract)
    assert {k: v for k, v in allocated.items() if v} == {
        "150502": D("108548770.95"), "150523": D("72365847.30"), "150581": D("72365847.30")}
    assert sum(allocated.values()) == D("253280465.55")
    assert selectors.clearing_statement(contract).missing == []


def test_the_final_snapshot_replaces_the_provisional_one(tongliao):
    _snapshot(tongliao, {**COUNTIES, "150502": 600001, "150571": 37284}, kind="final")
    allocated = selectors.county_premiums(tongliao)
    assert allocated["150502"] == D("68538114.23")
    assert allocated["150571"] == D("4258951.32")
    assert sum(allocated.values()) == D("253280465.55")


def test_the_allocation_rule_gives_the_remainder_fen_by_largest_fraction_then_by_code():
    assert allocate_premium(D("100.00"), {"150523": 1, "150502": 1, "150581": 1}) == {
        "150502": D("33.34"), "150523": D("33.33"), "150581": D("33.33")}
    # 1,000 fen × 1/7, 2/7, 4/7 = 142.86, 285.71, 571.43: floors 998, two fen to a (.857) and b (.714)
    assert allocate_premium(D("10.00"), {"a": 1, "b": 2, "c": 4}) == {"a": D("1.43"), "b": D("2.86"), "c": D("5.71")}
    assert allocate_premium(D("10.00"), {"a": 0, "b": 1}) == {"a": D("0.00"), "b": D("10.00")}
    with pytest.raises(ValueError):
        allocate_premium(D("10.00"), {"a": 0})
