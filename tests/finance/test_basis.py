"""One basis for every figure (issue 19 item 4): the contract year (claims by discharge date,
whenever approved or paid) and cash (money moved in the period, by booking date), computed by
one selector (`finance.basis.fund_figures`) that the dashboard and the reports share.

The records straddle the period edges: a claim discharged on 2025-12-31 and approved and paid
in January 2026, a receipt booked on 2026-01-01 (the day after the quarter and the year), a
December hospital payable paid in January, a recovery imposed in December and settled in
January. Tongliao with two county books of 1,000 residents: 228,460.00; no operating cost."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal as D

import pytest
from django.utils import timezone

from claims.hooks import ClaimPayment
from claims.models import Claim, Settlement
from finance import basis, reports, services
from finance.models import LedgerEntry
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
HORQIN, KAILU = "150502", "150523"
_SEQ = itertools.count(1)


def _person(contract, code):
    area = Area.objects.get(code=code)
    return area, EnrollmentFactory(contract=contract, area=area, person=PersonFactory(area_code=code)).person


def manual(contract, code, amount, *, discharged, approved, paid=None, user=None):
    n = next(_SEQ)
    area, person = _person(contract, code)
    approved_at = timezone.make_aware(dt.datetime.combine(approved, dt.time(10)))
    claim = Claim.objects.create(claim_no=f"B{n}", contract=contract, person=person, area=area,
                                 status="paid" if paid else "approved", registered_by=UserFactory(), approved_by=UserFactory(),
                                 approved_at=approved_at, payable=D(amount), enddate=discharged, paid_on=paid)
    if paid:
        services.claim_payment_book(ClaimPayment(claim=claim, amount=D(amount), paid_on=paid, voucher_no=f"V{n}",
                                                 payee_account="6228480000000000000", user=user))
    return claim


def instant(contract, code, amount, discharged, field="hifmi_pay"):
    n = next(_SEQ)
    area, person = _person(contract, code)
    return Settlement.objects.create(contract=contract, person=person, area=area, source="instant", setl_id=f"BS{n}",
                                     psn_no=person.psn_no, enddate=discharged, claim_kind="inpatient", **{field: D(amount)})


def payable(contract, code, month, amount, paid_on, user):
    p = services.hospital_payable_record(contract=contract, area=Area.objects.get(code=code), fixmedins_code="H1",
                                         fixmedins_name="通辽市医院", period=month, amount=D(amount), due_date=None,
                                         reference=f"batch-{month:%Y%m}", user=user)
    services.hospital_payable_record_payment(payable=p, amount=D(amount), paid_on=paid_on, user=user)
    return p


@pytest.fixture
def year(finance_user):
    contract = Contract.objects.select_related("program__region").get(code="tongliao-2025")
    services.premium_schedule_generate(contract=contract, user=finance_user,
                                       headcounts={HORQIN: {"resident": 1000}, KAILU: {"resident": 1000}})
    first, second = contract.premium_installments.order_by("seq")  # 182,768.00 and 45,692.00
    services.installment_record_receipt(installment=first, amount=D("182768.00"), received_on=dt.date(2025, 6, 5), user=finance_user)
    services.installment_record_receipt(installment=second, amount=D("20000.00"), received_on=dt.date(2025, 12, 31), user=finance_user)
    services.installment_record_receipt(installment=second, amount=D("25692.00"), received_on=dt.date(2026, 1, 1), user=finance_user)
    manual(contract, HORQIN, "10000.00", discharged=dt.date(2025, 12, 31), approved=dt.date(2026, 1, 5),
           paid=dt.date(2026, 1, 8), user=finance_user)
    manual(contract, HORQIN, "4800.00", discharged=dt.date(2025, 11, 10), approved=dt.date(2025, 11, 20),
           paid=dt.date(2025, 11, 25), user=finance_user)
    manual(contract, HORQIN, "2000.00", discharged=dt.date(2025, 9, 30), approved=dt.date(2025, 10, 2),
           paid=dt.date(2025, 10, 9), user=finance_user)
    manual(contract, KAILU, "3000.00", discharged=dt.date(2025, 12, 15), approved=dt.date(2025, 12, 20))  # approved, unpaid
    instant(contract, KAILU, "1234.56", dt.date(2025, 12, 31))
    instant(contract, KAILU, "1000.00", dt.date(2025, 10, 1))
    instant(contract, KAILU, "500.00", dt.date(2025, 9, 30), field="hifob_pay")
    payable(contract, KAILU, dt.date(2025, 12, 1), "1234.56", dt.date(2026, 1, 20), finance_user)
    payable(contract, KAILU, dt.date(2025, 10, 1), "1000.00", dt.date(2025, 11, 28), finance_user)
    payable(contract, KAILU, dt.date(2025, 9, 1), "500.00", dt.date(2025, 10, 15), finance_user)
    recovery = services.penalty_impose(contract=contract, kind="recovery", amount=D("300.00"), area=Area.objects.get(code=HORQIN),
                                       imposed_on=dt.date(2025, 12, 15), reason="non-compliant payments", user=finance_user)
    services.penalty_settle(penalty=recovery, amount=D("300.00"), on_date=dt.date(2026, 1, 10), user=finance_user)
    return contract


DECEMBER = (dt.date(2025, 12, 1), dt.date(2025, 12, 31))
Q4 = (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
JANUARY_2026 = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))

# (received, deductions, recoveries, manual, instant, spend, usage rate)
EXPECTED = {
    ("contract", DECEMBER): ("20000.00", "0.00", "300.00", "13000.00", "1234.56", "13934.56", "6.10%"),
    ("contract", Q4): ("20000.00", "0.00", "300.00", "17800.00", "2234.56", "19734.56", "8.64%"),
    ("contract", YEAR): ("202768.00", "0.00", "300.00", "19800.00", "2734.56", "22234.56", "9.73%"),
    ("cash", DECEMBER): ("20000.00", "0.00", "0.00", "0.00", "0.00", "0.00", "0.00%"),
    ("cash", Q4): ("20000.00", "0.00", "0.00", "6800.00", "1500.00", "8300.00", "3.63%"),
    ("cash", YEAR): ("202768.00", "0.00", "0.00", "6800.00", "1500.00", "8300.00", "3.63%"),
    ("cash", JANUARY_2026): ("25692.00", "0.00", "300.00", "10000.00", "1234.56", "10934.56", "4.79%"),
}


def _figures(p):
    return tuple(str(x) for x in (p.premium_received, p.deductions, p.recoveries, p.claims_manual, p.claims_instant,
                                  p.medical_spend)) + (p.usage_rate_display,)


@pytest.mark.parametrize(("which", "period"), list(EXPECTED))
def test_the_selector_reads_each_basis_and_period_exactly(year, which, period):
    position = basis.fund_figures(year, None, *period, which)
    assert _figures(position) == EXPECTED[(which, period)]
    assert position.premium_income == D("228460.00")  # the year's fund on either basis


def _section(document, title):
    return next(s for s in document.sections if s.title == title)


def _report_figures(section) -> tuple:
    rows = dict((r[0], r[1]) for r in section.rows)
    return tuple(rows[k].replace(",", "") for k in ("已收保费", "考核扣减", "追回款", "赔付支出（手工报销）", "赔付支出（即时结算）", "医疗费用支出")) + (rows["基金使用率"],)


@pytest.mark.parametrize(("kind", "period", "text"), [("monthly", DECEMBER, "2025-12"), ("quarterly", Q4, "2025-Q4"),
                                                     ("annual", YEAR, "2025")])
@pytest.mark.parametrize("which", ["contract", "cash"])
def test_report_and_dashboard_agree_on_the_same_basis_and_period(client, year, finance_user, kind, period, text, which):
    document = reports.report_document(kind, year, None, *period, basis=which)
    assert _report_figures(_section(document, "本期基金收支")) == EXPECTED[(which, period)]
    assert ("口径", {"contract": "合同年度（按出院日期）", "cash": "收付实现（按记账日期）"}[which]) in document.meta

    client.force_login(finance_user)
    page = client.get("/finance/", {"basis": which, "period": text})
    row = next(r for r in page.context["rows"] if r["contract"] == year)
    assert _figures(row["position"]) == EXPECTED[(which, period)]
    label = {"contract": "口径：合同年度（按出院日期）", "cash": "口径：收付实现（按记账日期）"}[which]
    assert f"{label} · 期间 {period[0]:%Y-%m-%d} 至 {period[1]:%Y-%m-%d}" in page.text
    # the report's per-area listing sums to the same figures
    claims = document.sections[2]
    total = claims.rows[-1] if claims.rows else ["合计", 0, D("0.00"), 0, D("0.00"), D("0.00")]
    assert (str(total[2]), str(total[4])) == (EXPECTED[(which, period)][3], EXPECTED[(which, period)][4])


def test_the_annual_report_counts_a_december_claim_approved_in_january_on_the_contract_basis(year):
    # the bug: claims were dated by approval, so the 2025 contract's claim approved in 2026
    # appeared in no 2025 report while the dashboard counted it
    document = reports.report_document("annual", year, None, *YEAR)
    claims = _section(document, "本期赔付（按出院日期）")
    assert claims.rows == [["开鲁县", 1, D("3000.00"), 3, D("2734.56"), D("5734.56")],
                           ["科尔沁区", 3, D("16800.00"), 0, D("0.00"), D("16800.00")],
                           ["合计", 4, D("19800.00"), 3, D("2734.56"), D("22534.56")]]
    position = dict((r[0], r[1]) for r in _section(document, "年初至今基金状况").rows)
    assert (position["赔付支出（手工报销）"], position["医疗费用支出"], position["基金使用率"]) == ("19,800.00", "22,234.56", "9.73%")


def test_nothing_dated_after_the_quarter_appears_in_the_q4_report(year):
    # the bug: the installments table showed a receipt booked on 2026-01-01 in the 2025 Q4
    # report (received 45,692.00 of the second installment, outstanding 0.00)
    document = reports.report_document("quarterly", year, None, *Q4)
    premium = document.sections[0]
    assert [r[5:] for r in premium.rows] == [[D("182768.00"), D("0.00")], [D("20000.00"), D("25692.00")]]
    assert premium.notes[0] == "本期收款：20,000.00"
    payables = _section(document, "应付医院款")
    assert [(r[0], r[4], r[5]) for r in payables.rows] == [("2025-10", D("1000.00"), D("0.00")),
                                                           ("2025-12", D("0.00"), D("1234.56"))]
    cash = reports.report_document("quarterly", year, None, *Q4, basis="cash")
    claims = _section(cash, "本期支付的赔付（按记账日期）")
    assert claims.rows == [["开鲁县", 0, D("0.00"), 2, D("1500.00"), D("1500.00")],
                           ["科尔沁区", 2, D("6800.00"), 0, D("0.00"), D("6800.00")],
                           ["合计", 2, D("6800.00"), 2, D("1500.00"), D("8300.00")]]


def test_the_annual_report_lists_only_entries_booked_in_the_year(year):
    document = reports.report_document("annual", year, None, *YEAR, basis="cash")
    movements = _section(document, "保证金、周转金、预付金及违约金变动")
    claims_paid = [r for r in movements.rows]
    assert all("2025-01-01" <= r[0] <= "2025-12-31" for r in claims_paid)
    assert [(r[0], r[3]) for r in claims_paid] == [("2025-10-09", D("2000.00")), ("2025-11-25", D("4800.00"))]
    penalties = _section(document, "本期认定的违约金／扣款")
    assert [(r[0], r[2], r[3]) for r in penalties.rows] == [("2025-12-15", D("300.00"), D("0.00"))]


def test_a_payment_reversal_leaves_the_cash_basis_and_not_the_contract_basis(year, finance_user):
    entry = LedgerEntry.objects.get(claim__payable=D("4800.00"))
    services.ledger_entry_reverse(entry=entry, reason="wrong account", user=finance_user, booked_on=dt.date(2025, 12, 2))
    assert basis.fund_figures(year, None, *Q4, "cash").claims_manual == D("2000.00")
    assert basis.fund_figures(year, None, *Q4, "contract").claims_manual == D("17800.00")


def test_county_books_and_a_list_of_books_on_either_basis(year):
    horqin, kailu = Area.objects.get(code=HORQIN), Area.objects.get(code=KAILU)
    assert _figures(basis.fund_figures(year, horqin, *YEAR, "contract"))[3:6] == ("16800.00", "0.00", "16500.00")
    assert _figures(basis.fund_figures(year, kailu, *YEAR, "cash"))[3:6] == ("0.00", "1500.00", "1500.00")
    both = basis.fund_figures(year, [horqin, kailu], *YEAR, "contract")
    assert (both.premium_income, both.medical_spend) == (D("228460.00"), D("22234.56"))
    assert both.basis_display == "口径：合同年度（按出院日期）"
    assert both.period_display == "期间 2025-01-01 至 2025-12-31"
