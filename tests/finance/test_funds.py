"""Guarantee deposits, the Taikang revolving fund, the Zhenping pre-payment, penalties and
hospital payables: each movement a ledger entry, each balance the sum of its entries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from finance import selectors, services
from finance.models import GuaranteeDeposit, HospitalPayable, LedgerEntry, Penalty
from programs.models import Area, Contract

D = Decimal


@pytest.mark.django_db
def test_taikang_deposit_is_held_returned_30_days_after_cases_close_or_forfeited_in_part(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    deposit = services.deposit_open(contract=contract, kind="annual", required=D("820000.00"), basis="10 % of the year's fund", user=finance_user)
    services.deposit_record_payment(deposit=deposit, amount=D("820000.00"), paid_on=dt.date(2025, 2, 10), user=finance_user)
    services.deposit_forfeit(deposit=deposit, amount=D("20000.00"), on_date=dt.date(2026, 3, 1), reason="2025 assessment: 96 points", user=finance_user)
    services.deposit_cases_closed(deposit=deposit, closed_on=dt.date(2026, 3, 20), objection=False, user=finance_user)
    deposit.refresh_from_db()
    assert (deposit.held, deposit.return_due) == (D("800000.00"), dt.date(2026, 4, 19))
    with pytest.raises(ValidationError):
        services.deposit_return(deposit=deposit, amount=D("800000.01"), returned_on=dt.date(2026, 4, 1), user=finance_user)
    services.deposit_return(deposit=deposit, amount=D("800000.00"), returned_on=dt.date(2026, 4, 10), user=finance_user)
    deposit.refresh_from_db()
    assert deposit.held == D("0.00")
    assert list(LedgerEntry.objects.filter(deposit=deposit).values_list("kind", "amount")) == [
        ("paid_in", D("820000.00")), ("forfeited", D("-20000.00")), ("returned", D("-800000.00"))]


@pytest.mark.django_db
def test_a_deposit_under_objection_is_not_returned(finance_user):
    deposit = services.deposit_open(contract=Contract.objects.get(code="taikang-2025"), kind="annual", required=D("100.00"), basis="x", user=finance_user)
    services.deposit_record_payment(deposit=deposit, amount=D("100.00"), paid_on=dt.date(2025, 2, 10), user=finance_user)
    services.deposit_cases_closed(deposit=deposit, closed_on=dt.date(2026, 3, 20), objection=True, user=finance_user)
    deposit.refresh_from_db()
    assert deposit.return_due is None
    with pytest.raises(ValidationError):
        services.deposit_return(deposit=deposit, amount=D("100.00"), returned_on=dt.date(2026, 4, 1), user=finance_user)


@pytest.mark.django_db
def test_taikang_revolving_fund_opens_at_410_000_due_01_10_and_monthly_topup_restores_it(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=finance_user)
    assert (fund.opening_amount, fund.due_date) == (D("410000.00"), dt.date(2025, 1, 10))
    services.revolving_fund_record_opening(fund=fund, amount=D("410000.00"), paid_on=dt.date(2025, 1, 8), user=finance_user)
    services.revolving_fund_debit(fund=fund, amount=D("35000.00"), paid_on=dt.date(2025, 1, 20), user=finance_user, memo="manual claims batch 1")
    services.revolving_fund_debit(fund=fund, amount=D("12500.50"), paid_on=dt.date(2025, 1, 28), user=finance_user, memo="out-of-area advance")
    services.revolving_fund_debit(fund=fund, amount=D("1000.00"), paid_on=dt.date(2025, 2, 2), user=finance_user, memo="February claim")
    topup = services.revolving_topup_compute(fund=fund, month=dt.date(2025, 1, 1), user=finance_user)
    assert (topup.balance_at_month_end, topup.amount) == (D("362499.50"), D("47500.50"))
    assert services.revolving_topup_compute(fund=fund, month=dt.date(2025, 1, 15), user=finance_user) == topup
    services.revolving_topup_record_payment(topup=topup, paid_on=dt.date(2025, 2, 5), user=finance_user)
    services.revolving_topup_record_payment(topup=topup, paid_on=dt.date(2025, 2, 5), user=finance_user)  # idempotent
    fund.refresh_from_db()
    assert fund.balance == D("409000.00")
    assert selectors.balance_history(fund.entries.all()) == [
        (dt.date(2025, 1, 8), D("410000.00")), (dt.date(2025, 1, 20), D("375000.00")), (dt.date(2025, 1, 28), D("362499.50")),
        (dt.date(2025, 2, 2), D("361499.50")), (dt.date(2025, 2, 5), D("409000.00"))]
    options = selectors.revolving_chart_options(fund)
    assert options["series"][0]["data"][-1] == "409000.00"  # amounts travel as strings
    call_command("finance_check", stdout=open("/dev/null", "w"))


@pytest.mark.django_db
def test_zhenping_prepayment_of_1_553_100_due_60_working_days_after_signing_returned_2028_12_31(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")  # signed 2026-02-13
    prepayment = services.prepayment_open(contract=contract, user=finance_user)
    # 60 working days after 2026-02-13 on the 2026 State Council calendar (Spring Festival,
    # Qingming and Labour Day off; 02-14, 02-28 and 05-09 make-up days), checked against
    # chinesecalendar directly: 2026-05-19
    assert (prepayment.amount, prepayment.due_date, prepayment.return_due) == (D("1553100.00"), dt.date(2026, 5, 19), dt.date(2028, 12, 31))
    assert prepayment.due_date_provisional is False
    services.prepayment_record(prepayment=prepayment, amount=D("1553100.00"), on_date=dt.date(2026, 4, 30), returned=False, user=finance_user)
    services.prepayment_record(prepayment=prepayment, amount=D("1553100.00"), on_date=dt.date(2028, 12, 31), returned=True, user=finance_user)
    prepayment.refresh_from_db()
    assert prepayment.outstanding == D("0.00")


@pytest.mark.django_db
def test_penalties_are_recorded_obligations_computed_from_their_base(finance_user):
    beijing = Contract.objects.get(code="beijing-chaoyang-2026")
    breach = services.penalty_impose(contract=beijing, kind="confidentiality", base=D("3912285.00"), imposed_on=dt.date(2026, 6, 1),
                                     reason="leak", user=finance_user)
    assert breach.amount == D("782457.00")
    taikang = Contract.objects.get(code="taikang-2025")
    early = services.penalty_impose(contract=taikang, kind="early_termination", base=D("8200050.00"), imposed_on=dt.date(2025, 8, 1),
                                    reason="terminated", user=finance_user)
    assert early.amount == D("820005.00")
    services.penalty_settle(penalty=early, amount=D("800000.00"), on_date=dt.date(2025, 9, 1), user=finance_user)
    with pytest.raises(ValidationError):
        services.penalty_settle(penalty=early, amount=D("20005.01"), on_date=dt.date(2025, 9, 2), user=finance_user)
    early.refresh_from_db()
    assert early.settled == D("800000.00")
    deduction = services.penalty_impose(contract=Contract.objects.get(code="tongliao-2025"), kind="assessment_deduction",
                                        amount=D("150000.00"), area=Area.objects.get(code="150523"),
                                        imposed_on=dt.date(2025, 12, 1), reason="November assessment", user=finance_user)
    assert Penalty.objects.get(pk=deduction.pk).amount == D("150000.00")


@pytest.mark.django_db
def test_hospital_payable_record_is_idempotent_on_reference_and_payments_never_exceed_it(finance_user):
    contract = Contract.objects.get(code="tongliao-2025")
    area = Area.objects.get(code="150502")
    kwargs = dict(contract=contract, area=area, fixmedins_code="H15050200001", fixmedins_name="通辽市医院", period=dt.date(2025, 2, 1),
                  amount=D("123456.78"), due_date=None, reference="batch-2025-02-H1", user=finance_user)
    first = services.hospital_payable_record(**kwargs)
    again = services.hospital_payable_record(**kwargs)
    assert first.pk == again.pk and HospitalPayable.objects.count() == 1
    assert first.due_date == dt.date(2025, 3, 30)  # Tongliao: by the 30th of the next month
    with pytest.raises(ValidationError):
        services.hospital_payable_record(**{**kwargs, "amount": D("1.00")})
    services.hospital_payable_record_payment(payable=first, amount=D("100000.00"), paid_on=dt.date(2025, 3, 20), user=finance_user)
    with pytest.raises(ValidationError):
        services.hospital_payable_record_payment(payable=first, amount=D("23456.79"), paid_on=dt.date(2025, 3, 21), user=finance_user)
    first.refresh_from_db()
    assert (first.paid, first.outstanding) == (D("100000.00"), D("23456.78"))
    feb = services.hospital_payable_record(**{**kwargs, "period": dt.date(2025, 1, 1), "reference": "batch-2025-01-H1"})
    assert feb.due_date == dt.date(2025, 2, 28)  # February has no 30th: its last day


@pytest.mark.django_db
def test_taikang_hospitals_are_paid_within_15_working_days_of_the_10th(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    payable = services.hospital_payable_record(
        contract=contract, area=Area.objects.get(code="411627"), fixmedins_code="H41162700001", fixmedins_name="太康县人民医院",
        period=dt.date(2025, 9, 1), amount=D("5000.00"), due_date=None, reference="tk-2025-09", user=finance_user)
    # report due 2025-10-10 (inside the National Day week; 10-11 is a make-up working day)
    assert payable.due_date == services.add_working_days(dt.date(2025, 10, 10), 15)
    assert GuaranteeDeposit.objects.count() == 0


@pytest.mark.django_db
def test_topup_task_is_idempotent(finance_user):
    from finance.tasks import revolving_topups_compute

    contract = Contract.objects.get(code="taikang-2025")
    fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=finance_user)
    services.revolving_fund_record_opening(fund=fund, amount=D("410000.00"), paid_on=dt.date(2025, 1, 8), user=finance_user)
    services.revolving_fund_debit(fund=fund, amount=D("1.00"), paid_on=dt.date(2025, 1, 9), user=finance_user, memo="x")
    first = revolving_topups_compute("2025-01-15", finance_user.pk)
    assert revolving_topups_compute("2025-01-01", finance_user.pk) == first
    assert fund.topups.get().amount == D("1.00")


@pytest.mark.django_db
def test_admin_lists_are_read_only_and_scoped(client, finance_tongliao, finance_user):
    beijing = Contract.objects.get(code="beijing-chaoyang-2026")
    services.premium_schedule_generate(contract=beijing, user=finance_user)
    client.force_login(finance_tongliao)
    page = client.get("/admin/finance/premiuminstallment/")
    assert page.status_code == 200 and beijing.name not in page.text  # contracts read by their title
    client.force_login(finance_user)
    assert beijing.name in client.get("/admin/finance/premiuminstallment/").text
    assert client.get("/admin/finance/ledgerentry/add/").status_code == 403


@pytest.mark.django_db
def test_a_hospital_payable_outside_the_contracts_region_is_refused(finance_user):
    with pytest.raises(ValidationError):
        services.hospital_payable_record(
            contract=Contract.objects.get(code="tongliao-2025"), area=Area.objects.get(code="411627"), fixmedins_code="H",
            fixmedins_name="太康县人民医院", period=dt.date(2025, 1, 1), amount=D("1.00"), due_date=None, reference="x", user=finance_user)
    assert HospitalPayable.objects.count() == 0


@pytest.mark.django_db
def test_monthly_beat_task_computes_last_months_topup_once_as_the_system_account(finance_user, settings):
    from finance.tasks import SYSTEM_USERNAME, revolving_topups_monthly

    assert settings.CELERY_BEAT_SCHEDULE["revolving-fund-topups"]["task"] == "finance.tasks.revolving_topups_monthly"
    contract = Contract.objects.get(code="taikang-2025")
    fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=finance_user)
    services.revolving_fund_record_opening(fund=fund, amount=D("410000.00"), paid_on=dt.date(2025, 1, 8), user=finance_user)
    services.revolving_fund_debit(fund=fund, amount=D("86500.00"), paid_on=dt.date(2025, 2, 25), user=finance_user, memo="报销")
    first = revolving_topups_monthly("2025-03-01")
    assert revolving_topups_monthly("2025-03-01") == first
    topup = fund.topups.get()
    assert (topup.month, topup.amount) == (dt.date(2025, 2, 1), D("86500.00"))
    assert revolving_topups_monthly("2026-03-01") == []  # outside the 2025 contract year
    from django.contrib.auth import get_user_model

    system = get_user_model().objects.get(username=SYSTEM_USERNAME)
    assert not system.is_active and not system.has_usable_password()


@pytest.mark.django_db
def test_payable_due_dates_follow_the_hospital_terms_kept_with_the_batches(finance_user):
    """One rule source: claims.HospitalSettlementTerms. A contract without terms pays by agreement."""
    from programs.models import Area

    def record(code, area_code, ref):
        return services.hospital_payable_record(
            contract=Contract.objects.get(code=code), area=Area.objects.get(code=area_code), fixmedins_code="H1",
            fixmedins_name="医院", period=dt.date(2025, 9, 1) if code != "beijing-chaoyang-2026" else dt.date(2026, 3, 1),
            amount=D("100.00"), due_date=None, reference=ref, user=finance_user)

    assert record("tongliao-2025", "150502", "a").due_date == dt.date(2025, 10, 30)
    assert record("taikang-2025", "411627", "b").due_date == dt.date(2025, 10, 30)  # 10-10 + 15 working days (10-11 a make-up day)
    assert record("beijing-chaoyang-2026", "110105", "c").due_date is None
