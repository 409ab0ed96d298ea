"""Premium schedules persisted per contract from its terms; headcount changes add items."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from finance import services
from finance.models import GuaranteeDeposit, LedgerEntry, PremiumInstallment
from programs.models import Contract

D = Decimal


def _rows(contract):
    return [(i.seq, i.kind, i.amount, i.withheld, i.due_date) for i in PremiumInstallment.objects.filter(contract=contract)]


@pytest.mark.django_db
def test_tongliao_schedule_is_80_20_of_253_280_465_55_and_waits_for_the_signing_date(finance_user):
    contract = Contract.objects.get(code="tongliao-2025")
    schedule = services.premium_schedule_generate(contract=contract, user=finance_user)
    assert schedule.total == D("253280465.55")
    assert _rows(contract) == [
        (1, "scheduled", D("202624372.44"), D("0.00"), None),
        (2, "scheduled", D("50656093.11"), D("0.00"), dt.date(2025, 12, 20)),
    ]
    services.premium_event_record(contract=contract, event="signing", on_date=dt.date(2025, 5, 10), user=finance_user)
    assert PremiumInstallment.objects.get(contract=contract, seq=1).due_date == dt.date(2025, 6, 9)


@pytest.mark.django_db
def test_beijing_single_payment_of_3_912_285_due_after_funds_and_invoice(finance_user):
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user)
    assert _rows(contract) == [(1, "scheduled", D("3912285.00"), D("0.00"), None)]
    services.premium_event_record(contract=contract, event="fiscal_funds_arrived", on_date=dt.date(2026, 1, 5), user=finance_user)
    assert PremiumInstallment.objects.get(contract=contract).due_date is None  # invoice still missing
    services.premium_event_record(contract=contract, event="invoice_received", on_date=dt.date(2026, 1, 6), user=finance_user)
    # 5 working days after 01-05 = 01-12; 10 working days after 01-06 = 01-20; the later one
    assert PremiumInstallment.objects.get(contract=contract).due_date == dt.date(2026, 1, 20)


@pytest.mark.django_db
def test_zhenping_40_30_30_with_10_percent_withheld_as_contract_deposit(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    schedule = services.premium_schedule_generate(
        contract=contract, user=finance_user, headcounts={"411324": {"active": 3001, "retired": 1200}}
    )
    # 3,001 × 460 = 1,380,460.00; retirees add 0
    assert schedule.total == D("1380460.00")
    assert _rows(contract) == [
        (1, "scheduled", D("552184.00"), D("0.00"), dt.date(2026, 3, 31)),
        (2, "scheduled", D("414138.00"), D("0.00"), dt.date(2026, 6, 30)),
        (3, "scheduled", D("414138.00"), D("138046.00"), dt.date(2026, 12, 31)),
    ]
    deposit = GuaranteeDeposit.objects.get(contract=contract, kind="contract")
    assert (deposit.required, deposit.held) == (D("138046.00"), D("138046.00"))
    assert PremiumInstallment.objects.get(contract=contract, seq=3).cash_due == D("276092.00")


@pytest.mark.django_db
def test_taikang_two_transfers_in_march_and_september(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411627": {"insured": 54667}})
    assert _rows(contract) == [
        (1, "scheduled", D("4100025.00"), D("0.00"), dt.date(2025, 3, 31)),
        (2, "scheduled", D("4100025.00"), D("0.00"), dt.date(2025, 9, 30)),
    ]


@pytest.mark.django_db
def test_headcount_change_adds_a_supplementary_item_and_never_rewrites_installments(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 3001, "retired": 1200}})
    before = _rows(contract)
    # 12 new active enrollees at the full 460, 5 actives retired (0 premium, no refund of their 460? they move category)
    change = services.premium_headcount_change(
        contract=contract, headcounts={"411324": {"active": 3008, "retired": 1205}}, effective_on=dt.date(2026, 7, 1),
        reason="July enrollment list", user=finance_user, due_date=dt.date(2026, 12, 31),
    )
    assert change.difference == D("3220.00")  # (3008 - 3001) × 460
    rows = _rows(contract)
    assert rows[:3] == before
    assert rows[3] == (4, "supplementary", D("3220.00"), D("0.00"), dt.date(2026, 12, 31))
    with pytest.raises(ValidationError):
        services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 1}})


@pytest.mark.django_db
def test_final_headcount_below_provisional_creates_a_refund_item(finance_user):
    contract = Contract.objects.get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user)
    change = services.premium_headcount_change(
        contract=contract, headcounts={"": {"resident": 2217185}}, effective_on=dt.date(2025, 11, 30),
        reason="end-of-November headcount", user=finance_user,
    )
    assert change.difference == D("-11423.00")
    assert _rows(contract)[2] == (3, "refund", D("11423.00"), D("0.00"), None)
    assert LedgerEntry.objects.filter(contract=contract).count() == 0
