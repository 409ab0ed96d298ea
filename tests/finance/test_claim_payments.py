"""Paying a claim moves the fund it comes from (issue 19, item 3): the PAID step books a ledger
entry against the fund the contract's terms name, in the same transaction, linked to the claim;
its reversal restores the fund; finance_check stays clean."""

import datetime as dt
import itertools
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation

from claims.models import Claim, ClaimDocument, ClaimStatusChange, Settlement
from claims.registration import missing_documents
from claims.workflow import TransitionRefused, claim_transition
from finance import services
from finance.models import ClaimsBook, LedgerEntry, RevolvingFund
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
_numbers = itertools.count(1)
ACCOUNT = "6228480000000000000"


def _approved(code, area_code, *, employment="active", bank_account=ACCOUNT, **amounts):
    """A manual claim taken through approval by the engine (caseworker registers, reviewer approves)."""
    contract, area = Contract.objects.get(code=code), Area.objects.get(code=area_code)
    person = EnrollmentFactory(person=PersonFactory(area_code=area_code), contract=contract, area=area,
                               employment=employment).person
    caseworker = UserFactory(role="caseworker", area_codes=[area_code])
    reviewer = UserFactory(role="reviewer", area_codes=[area.parent.code])
    enddate = dt.date(contract.year, 3, 10)
    claim = Claim.objects.create(claim_no=f"P{next(_numbers):06d}", contract=contract, person=person, area=area,
                                 registered_by=caseworker, status=S.SUBMITTED, enddate=enddate, fixmedins_name="医院",
                                 place=amounts.pop("place", "in_region"), bank_account=bank_account)
    for requirement in missing_documents(claim):
        ClaimDocument.objects.create(claim=claim, requirement=requirement, received_on=enddate, received_by=caseworker)
    Settlement.objects.create(contract=contract, person=person, area=area, claim=claim, source="manual",
                              setl_id=f"M-{claim.claim_no}", psn_no=person.psn_no or "", enddate=enddate,
                              claim_kind="inpatient", place=claim.place, hosp_lv="2", **amounts)
    return claim_transition(claim=claim, to=S.APPROVED, user=reviewer)


@pytest.fixture
def taikang_fund(finance_user):
    contract = Contract.objects.get(code="taikang-2025")
    fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=finance_user)
    services.revolving_fund_record_opening(fund=fund, amount=D("410000.00"), paid_on=dt.date(2025, 1, 8), user=finance_user)
    return fund


def _taikang_18000():
    # retired, local, level-2 hospital: over_cap_amt 20,000 × 90 % = 18,000.00
    claim = _approved("taikang-2025", "411627", employment="retired", place="local", over_cap_amt=D("20000.00"),
                      inscp_scp_amt=D("106000.00"), hifp_pay=D("80000.00"))
    assert claim.payable == D("18000.00")
    return claim


def test_paying_a_taikang_claim_debits_the_revolving_fund_by_exactly_the_amount_and_the_reversal_restores_it(
        taikang_fund, finance_user):
    claim = _taikang_18000()
    paid = claim_transition(claim=claim, to=S.PAID, user=finance_user, paid_on=dt.date(2025, 3, 25), voucher_no="记-0325-07")
    taikang_fund.refresh_from_db()
    assert taikang_fund.balance == D("392000.00")  # 410,000.00 − 18,000.00
    entry = LedgerEntry.objects.get(claim=claim)
    assert (entry.book, entry.kind, entry.amount, entry.revolving_fund, entry.booked_on, entry.area) == (
        "revolving", "debit", D("-18000.00"), taikang_fund, dt.date(2025, 3, 25), claim.area)
    assert entry.reference == f"claim-{claim.pk}"
    assert "记-0325-07" in entry.memo and ACCOUNT in entry.memo
    assert (paid.status, paid.paid_on, paid.payment_voucher) == (S.PAID, dt.date(2025, 3, 25), "记-0325-07")
    # the month's top-up follows from the entries
    topup = services.revolving_topup_compute(fund=taikang_fund, month=dt.date(2025, 3, 1), user=finance_user)
    assert (topup.balance_at_month_end, topup.amount) == (D("392000.00"), D("18000.00"))
    call_command("finance_check", stdout=open("/dev/null", "w"))

    reversal = services.ledger_entry_reverse(entry=entry, reason="银行退票", user=finance_user, booked_on=dt.date(2025, 4, 2))
    taikang_fund.refresh_from_db()
    assert taikang_fund.balance == D("410000.00")
    assert (reversal.amount, reversal.claim, reversal.reverses) == (D("18000.00"), claim, entry)
    call_command("finance_check", stdout=open("/dev/null", "w"))
    # the claim is no longer paid: approved again, same amount, payment fields cleared, one status change
    claim.refresh_from_db()
    assert (claim.status, claim.payable, claim.paid_on, claim.payment_voucher) == (S.APPROVED, D("18000.00"), None, "")
    change = ClaimStatusChange.objects.filter(claim=claim).latest("id")
    assert (change.from_status, change.to_status, change.by, change.reason) == (
        S.PAID, S.APPROVED, finance_user, "付款已冲销：银行退票")

    # paid again (a new transfer): the fund moves by exactly the amount once more, a new entry
    claim_transition(claim=claim, to=S.PAID, user=finance_user, paid_on=dt.date(2025, 4, 8), voucher_no="记-0408-03")
    taikang_fund.refresh_from_db()
    again = LedgerEntry.objects.get(claim=claim, kind="debit", reversed_by__isnull=True)
    assert (taikang_fund.balance, again.amount, again.reference) == (D("392000.00"), D("-18000.00"), f"claim-{claim.pk}-2")
    assert list(ClaimStatusChange.objects.filter(claim=claim).values_list("to_status", flat=True)) == [
        S.APPROVED, S.PAID, S.APPROVED, S.PAID]
    call_command("finance_check", stdout=open("/dev/null", "w"))


def test_reversing_a_claim_payment_through_the_finance_page_unpays_the_claim(client, taikang_fund, finance_user):
    from django.urls import reverse

    claim = _taikang_18000()
    claim_transition(claim=claim, to=S.PAID, user=finance_user, paid_on=dt.date(2025, 3, 25), voucher_no="记-0325-07")
    entry = LedgerEntry.objects.get(claim=claim)
    client.force_login(finance_user)
    response = client.post(reverse("finance:entry_reverse", args=[entry.pk]), {"reason": "重复支付", "on_date": "2025-04-02"})
    assert response.status_code == 302
    claim.refresh_from_db()
    taikang_fund.refresh_from_db()
    assert (claim.status, claim.paid_on, taikang_fund.balance) == (S.APPROVED, None, D("410000.00"))
    page = client.get(reverse("claim_detail", args=[claim.pk])).text
    assert "付款已冲销：重复支付" in page


def test_a_claim_with_a_live_payment_entry_is_not_booked_twice(taikang_fund, finance_user):
    from claims.hooks import ClaimPayment

    claim = _taikang_18000()
    claim_transition(claim=claim, to=S.PAID, user=finance_user, paid_on=dt.date(2025, 3, 25), voucher_no="记-0325-07")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        services.claim_payment_book(ClaimPayment(claim=claim, amount=D("18000.00"), paid_on=dt.date(2025, 3, 26),
                                                 voucher_no="记-0326-01", payee_account=ACCOUNT, user=finance_user))
    assert exc.value.messages == ["该理赔的付款已入账；须先冲销才能再次付款。"]
    taikang_fund.refresh_from_db()
    assert taikang_fund.balance == D("392000.00")


def test_a_claim_paid_under_a_contract_without_revolving_fund_books_its_claims_book(finance_user):
    # Tongliao, ordinary, in region: base 22,000 → 4,800.00
    claim = _approved("tongliao-2025", "150502", inscp_scp_amt=D("52000.00"), hifp_pay=D("30000.00"))
    claim_transition(claim=claim, to=S.PAID, user=finance_user, paid_on=dt.date(2025, 3, 28), voucher_no="记-0328-02")
    book = ClaimsBook.objects.get(contract=claim.contract)
    entry = LedgerEntry.objects.get(claim=claim)
    assert (book.paid, entry.book, entry.kind, entry.amount, entry.claims_book) == (
        D("4800.00"), "claims", "payment", D("4800.00"), book)
    services.ledger_entry_reverse(entry=entry, reason="重复支付", user=finance_user)
    book.refresh_from_db()
    assert book.paid == D("0.00")
    call_command("finance_check", stdout=open("/dev/null", "w"))


def test_a_payment_the_fund_cannot_book_leaves_the_claim_approved(finance_user):
    # Taikang's terms name a revolving fund, not opened yet: refused, nothing written
    claim = _taikang_18000()
    with translation.override("zh-hans"), pytest.raises(Exception) as exc:
        claim_transition(claim=claim, to=S.PAID, user=finance_user, paid_on=dt.date(2025, 3, 25), voucher_no="记-1")
    assert "周转金" in " ".join(getattr(exc.value, "messages", [str(exc.value)]))
    claim.refresh_from_db()
    assert (claim.status, claim.paid_on, claim.payment_voucher) == (S.APPROVED, None, "")
    assert not LedgerEntry.objects.exists() and not RevolvingFund.objects.exists()
    assert not ClaimStatusChange.objects.filter(claim=claim, to_status=S.PAID).exists()


def test_a_payment_without_payee_account_date_and_voucher_is_refused_naming_them(taikang_fund, finance_user):
    claim = _approved("taikang-2025", "411627", employment="retired", place="local", bank_account="",
                      over_cap_amt=D("20000.00"), inscp_scp_amt=D("106000.00"), hifp_pay=D("80000.00"))
    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as exc:
        claim_transition(claim=claim, to=S.PAID, user=finance_user, voucher_no="  ")
    assert exc.value.messages == ["付款须填写收款账号、付款日期、凭证号。"]
    claim.refresh_from_db()
    taikang_fund.refresh_from_db()
    assert (claim.status, taikang_fund.balance) == (S.APPROVED, D("410000.00"))
    assert not LedgerEntry.objects.filter(claim=claim).exists()
