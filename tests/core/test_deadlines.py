"""Deadline records (issue 20, DOMAIN.md §6): one per obligation, derived from the rows that
create it, kept in step in the same transaction, with the state as of any day."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from claims import registration
from claims.models import Claim
from claims.workflow import claim_transition
from finance import services
from finance.models import LedgerEntry, PremiumInstallment
from insurance_admin.core.deadlines import state_as_of
from insurance_admin.core.models import Deadline
from programs.models import Area, Contract
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
S = Claim.Status


@pytest.fixture
def finance_user(db):
    return UserFactory(username="fin_all", role="finance", area_codes=["150500", "411600", "411300", "110000"])


def register_claim(user, person, *, received_on, place="in_region", setl_id="M-DL-1"):
    contract = Contract.objects.get(code="tongliao-2025")
    docs = registration.requirements_for(program=contract.program, claim_kind="inpatient", place=place)
    return registration.claim_register(
        user=user, person=person, contract=contract, claim_kind="inpatient", place=place, fixmedins_code="H15050200001",
        fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
        records=[{"setl_id": setl_id, "medfee_sumamt": D("52000.00"), "inscp_scp_amt": D("52000.00"), "hifp_pay": D("30000.00")}],
        documents=docs, received_on=received_on,
    )


def deadlines(kind=None):
    qs = Deadline.objects.all() if kind is None else Deadline.objects.filter(kind=kind)
    return list(qs.order_by("due_date").values_list("kind", "label", "due_date", "role", "met_on"))


def run_command(*args) -> list[dict]:
    out = StringIO()
    call_command("deadlines", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


# --- derivation --------------------------------------------------------------------------


def test_tongliao_local_claim_complete_on_2025_09_26_is_due_2025_10_16_and_met_when_paid(caseworker, reviewer, horqin_person):
    claim = register_claim(caseworker, horqin_person, received_on=dt.date(2025, 9, 26))
    d = Deadline.objects.get(kind="claim_service")
    assert (d.label, d.due_date, d.role, d.area.code, d.contract.code, d.working_days, d.provisional, d.met_on) == (
        claim.claim_no, dt.date(2025, 10, 16), "caseworker", "150502", "tongliao-2025", True, False, None)
    assert d.link == f"/claims/{claim.pk}/"
    finance = UserFactory(role="finance", area_codes=["150500"])
    claim = claim_transition(claim=claim, to=S.CALCULATED, user=caseworker)
    claim = claim_transition(claim=claim, to=S.SUBMITTED, user=caseworker)
    claim = claim_transition(claim=claim, to=S.APPROVED, user=reviewer)
    d.refresh_from_db()
    assert d.met_on is None
    if not claim.bank_account:
        Claim.objects.filter(pk=claim.pk).update(bank_account="6222020200001234567")
    # met on the day the money left (the payment date finance records), not the day it was keyed
    claim_transition(claim=claim, to=S.PAID, user=finance, paid_on=dt.date(2025, 10, 15), voucher_no="PZ-001")
    d.refresh_from_db()
    assert (d.met_on, d.met_by, d.met_what, d.state) == (dt.date(2025, 10, 15), finance, "claim paid", "met")


def test_out_of_area_claim_deadline_moves_with_the_extension(caseworker, horqin_person):
    claim = register_claim(caseworker, horqin_person, received_on=dt.date(2025, 9, 26), place="out_of_region")
    assert Deadline.objects.get().due_date == dt.date(2025, 10, 21)  # 25 calendar days
    registration.claim_extend(claim=claim, reason="需核实异地住院费用", user=caseworker)
    d = Deadline.objects.get()
    assert (d.due_date, d.working_days) == (dt.date(2025, 11, 13), True)  # 30 working days: 9-28 and 10-11 count, 10-1…10-8 do not


def test_a_claim_with_missing_documents_has_no_deadline_until_complete(caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    claim = registration.claim_register(
        user=caseworker, person=horqin_person, contract=contract, claim_kind="inpatient", place="in_region",
        fixmedins_code="H1", fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
        records=[{"setl_id": "M-X", "medfee_sumamt": D("100.00"), "inscp_scp_amt": D("100.00"), "hifp_pay": D("0")}],
        documents=[], received_on=dt.date(2025, 9, 20))
    assert claim.status == S.REGISTERED and not Deadline.objects.exists()


def test_zhenping_installments_are_due_03_31_06_30_12_31_and_met_when_received_in_full(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 3001, "retired": 1200}})
    rows = deadlines("premium_installment")
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("zhenping-2026 #1", dt.date(2026, 3, 31), "finance"), ("zhenping-2026 #2", dt.date(2026, 6, 30), "finance"),
        ("zhenping-2026 #3", dt.date(2026, 12, 31), "finance")]
    first = PremiumInstallment.objects.get(contract=contract, seq=1)
    services.installment_record_receipt(installment=first, amount=D("100.00"), received_on=dt.date(2026, 3, 20), user=finance_user)
    assert Deadline.objects.get(object_id=first.pk, kind="premium_installment").met_on is None  # partly received
    first.refresh_from_db()
    entry = services.installment_record_receipt(installment=first, amount=first.outstanding, received_on=dt.date(2026, 3, 28),
                                                user=finance_user)
    d = Deadline.objects.get(object_id=first.pk, kind="premium_installment")
    assert (d.met_on, d.met_what, d.met_by) == (dt.date(2026, 3, 28), "premium received in full", finance_user)
    services.ledger_entry_reverse(entry=entry, reason="bank returned the transfer", user=finance_user, booked_on=dt.date(2026, 4, 2))
    d.refresh_from_db()
    assert (d.met_on, d.met_what) == (None, "")  # re-opened: the installment is no longer paid


def test_taikang_revolving_fund_due_2025_01_10_met_by_the_opening_and_topups_tracked(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=finance_user)
    d = Deadline.objects.get(kind="revolving_opening")
    assert (d.due_date, d.area.code, d.met_on) == (dt.date(2025, 1, 10), contract.program.region.code, None)
    services.revolving_fund_record_opening(fund=fund, amount=fund.opening_amount, paid_on=dt.date(2025, 1, 8), user=finance_user)
    d.refresh_from_db()
    assert d.met_on == dt.date(2025, 1, 8)
    services.revolving_fund_debit(fund=fund, amount=D("35000.00"), paid_on=dt.date(2025, 1, 20), user=finance_user, memo="claims")
    topup = services.revolving_topup_compute(fund=fund, month=dt.date(2025, 1, 1), user=finance_user)
    t = Deadline.objects.get(kind="revolving_topup")
    assert (t.label, t.due_date, t.met_on) == ("taikang-2025 2025-01", dt.date(2025, 2, 28), None)
    services.revolving_topup_record_payment(topup=topup, paid_on=dt.date(2025, 2, 5), user=finance_user)
    t.refresh_from_db()
    assert t.met_on == dt.date(2025, 2, 5)


def test_zhenping_prepayment_due_2026_05_19_and_its_return_2028_12_31(finance_user):
    prepayment = services.prepayment_open(contract=Contract.objects.get(code="zhenping-2026"), user=finance_user)
    assert [(r[0], r[2], r[4]) for r in deadlines()] == [
        ("prepayment", dt.date(2026, 5, 19), None), ("prepayment_return", dt.date(2028, 12, 31), None)]
    services.prepayment_record(prepayment=prepayment, amount=prepayment.amount, on_date=dt.date(2026, 4, 30), returned=False,
                               user=finance_user)
    assert [(r[0], r[4]) for r in deadlines()] == [("prepayment", dt.date(2026, 4, 30)), ("prepayment_return", None)]
    services.prepayment_record(prepayment=prepayment, amount=prepayment.amount, on_date=dt.date(2028, 12, 20), returned=True,
                               user=finance_user)
    assert [(r[0], r[4]) for r in deadlines()] == [("prepayment", dt.date(2026, 4, 30)), ("prepayment_return", dt.date(2028, 12, 20))]


def test_hospital_payable_due_by_the_30th_of_next_month_met_when_paid(finance_user):
    payable = services.hospital_payable_record(
        contract=Contract.objects.get(code="tongliao-2025"), area=Area.objects.get(code="150502"), fixmedins_code="H1",
        fixmedins_name="通辽市医院", period=dt.date(2025, 2, 1), amount=D("1000.00"), due_date=None, reference="b-1", user=finance_user)
    d = Deadline.objects.get(kind="hospital_payment")
    assert (d.label, d.due_date, d.area.code) == ("通辽市医院 2025-02", dt.date(2025, 3, 30), "150502")
    services.hospital_payable_record_payment(payable=payable, amount=D("400.00"), paid_on=dt.date(2025, 3, 20), user=finance_user)
    d.refresh_from_db()
    assert d.met_on is None
    services.hospital_payable_record_payment(payable=payable, amount=D("600.00"), paid_on=dt.date(2025, 3, 31), user=finance_user)
    d.refresh_from_db()
    assert d.met_on == dt.date(2025, 3, 31)
    assert state_as_of(due_date=d.due_date, remind_on=d.remind_on, met_on=d.met_on, on=dt.date(2025, 3, 31)) == "met"


def test_deposit_return_is_due_30_days_after_cases_close_and_met_when_nothing_is_held(finance_user):
    deposit = services.deposit_open(contract=Contract.objects.get(code="taikang-2025"), kind="annual", required=D("100.00"),
                                    basis="10 %", user=finance_user)
    services.deposit_record_payment(deposit=deposit, amount=D("100.00"), paid_on=dt.date(2025, 2, 10), user=finance_user)
    assert not Deadline.objects.exists()  # not due before the cases close
    services.deposit_cases_closed(deposit=deposit, closed_on=dt.date(2026, 3, 20), objection=False, user=finance_user)
    assert deadlines() == [("deposit_return", "taikang-2025 annual", dt.date(2026, 4, 19), "finance", None)]
    services.deposit_return(deposit=deposit, amount=D("100.00"), returned_on=dt.date(2026, 4, 10), user=finance_user)
    assert deadlines()[0][4] == dt.date(2026, 4, 10)


def test_backfill_derives_the_same_records_and_is_idempotent(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 3001, "retired": 1200}})
    services.prepayment_open(contract=contract, user=finance_user)
    before = deadlines()
    Deadline.objects.all().delete()
    call_command("deadlines_backfill", stdout=StringIO())
    after = deadlines()
    terms_kinds = ("service_window", "annual_audit")
    assert [r for r in after if r[0] not in terms_kinds and r[0] != "periodic_report"] == before
    # and the one-off obligations every contract's finance terms set (derived from the terms)
    assert [r for r in after if r[0] in terms_kinds] == [
        ("service_window", "taikang-2025", dt.date(2025, 2, 24), "administrator", None),
        ("annual_audit", "tongliao-2025 2025", dt.date(2026, 4, 30), "finance", None)]
    # and the report periods of the seed report terms (reporting): Tongliao 12 + 4 + 1,
    # Taikang 2, Zhenping 4 + 2
    assert sum(d[0] == "periodic_report" for d in after) == 25
    stamps = list(Deadline.objects.values_list("updated_at", flat=True))
    call_command("deadlines_backfill", stdout=StringIO())
    assert list(Deadline.objects.values_list("updated_at", flat=True)) == stamps  # nothing rewritten
    assert LedgerEntry.objects.count() == 1  # the withheld deposit: the backfill booked nothing


# --- the command --------------------------------------------------------------------------


def test_command_states_before_on_and_after_the_due_date(finance_user, settings):
    settings.DEADLINE_DUE_SOON_DAYS = {"default": 5}
    contract = Contract.objects.get(code="zhenping-2026")
    services.premium_schedule_generate(contract=contract, user=finance_user, headcounts={"411324": {"active": 3001, "retired": 1200}})
    first = PremiumInstallment.objects.get(contract=contract, seq=1)

    def state_on(day):
        return [r["state"] for r in run_command("--as-of", day, "--contract", "zhenping-2026") if r["object"] == "zhenping-2026 #1"][0]

    assert [state_on(d) for d in ("2026-03-25", "2026-03-26", "2026-03-31", "2026-04-01")] == [
        "upcoming", "due_soon", "due_today", "overdue"]
    services.installment_record_receipt(installment=first, amount=first.outstanding, received_on=dt.date(2026, 4, 3), user=finance_user)
    assert [state_on(d) for d in ("2026-04-02", "2026-04-03")] == ["overdue", "met"]
    rows = run_command("--as-of", "2026-04-02", "--contract", "zhenping-2026")
    assert rows[0] == {"kind": "premium_installment", "contract": "zhenping-2026", "area": "411324", "object": "zhenping-2026 #1",
                       "due_date": "2026-03-31", "state": "overdue", "role": "finance"}
    assert [r["object"] for r in rows] == ["zhenping-2026 #1", "zhenping-2026 #2", "zhenping-2026 #3"]


def test_command_filters_by_area_including_counties(caseworker, horqin_person, finance_user):
    register_claim(caseworker, horqin_person, received_on=dt.date(2025, 9, 26))
    services.prepayment_open(contract=Contract.objects.get(code="zhenping-2026"), user=finance_user)
    assert [r["kind"] for r in run_command("--as-of", "2025-10-01", "--area", "150500")] == ["claim_service"]
    assert [r["kind"] for r in run_command("--as-of", "2025-10-01", "--area", "150502")] == ["claim_service"]
    assert [r["kind"] for r in run_command("--as-of", "2025-10-01", "--area", "150523")] == []
    assert len(run_command("--as-of", "2025-10-01")) == 3


def test_command_refuses_a_bad_date_or_unknown_contract():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("deadlines", "--as-of", "2026-13-01")
    with pytest.raises(CommandError, match="unknown contract"):
        call_command("deadlines", "--contract", "nope")


def test_the_backfill_meets_a_paid_claims_deadline_on_its_payment_date_as_the_workflow_does(
        caseworker, reviewer, horqin_person):
    claim = register_claim(caseworker, horqin_person, received_on=dt.date(2025, 9, 26))
    finance = UserFactory(role="finance", area_codes=["150500"])
    for step, user in ((S.CALCULATED, caseworker), (S.SUBMITTED, caseworker), (S.APPROVED, reviewer)):
        claim = claim_transition(claim=claim, to=step, user=user)
    if not claim.bank_account:
        Claim.objects.filter(pk=claim.pk).update(bank_account="6222020200001234567")
    claim_transition(claim=claim, to=S.PAID, user=finance, paid_on=dt.date(2025, 10, 15), voucher_no="PZ-002")
    Deadline.objects.filter(kind="claim_service").delete()
    registration.claims_deadlines_backfill()
    assert Deadline.objects.get(kind="claim_service").met_on == dt.date(2025, 10, 15)
