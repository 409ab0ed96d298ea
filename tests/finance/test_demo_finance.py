from decimal import Decimal as D

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """The demo imports a hospital batch: its file and progress go to a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_demo_finance_books_through_the_services_and_proves_its_balances():
    from finance.models import LedgerEntry, PremiumSchedule

    call_command("load_demo", verbosity=0)
    call_command("load_demo_finance", verbosity=0)
    call_command("load_demo_finance", verbosity=0)
    assert PremiumSchedule.objects.count() == 4
    tongliao = PremiumSchedule.objects.get(contract__code="tongliao-2025")
    assert str(tongliao.total) == "253280465.55"
    assert LedgerEntry.objects.filter(reference="演示：财政拨付").get().amount == tongliao.contract.premium_installments.get(seq=1).amount
    call_command("finance_check", verbosity=0)  # raises SystemExit(1) on any mismatch


def test_installment_terms_read_in_chinese_on_the_page():
    from django.utils import translation

    from finance.models import PremiumInstallment

    call_command("load_demo", verbosity=0)
    call_command("load_demo_finance", verbosity=0)
    with translation.override("zh-hans"):
        zhenping = [i.terms_display for i in PremiumInstallment.objects.filter(contract__code="zhenping-2026").order_by("seq")]
        beijing = PremiumInstallment.objects.get(contract__code="beijing-chaoyang-2026").terms_display
    assert zhenping == ["保费总额的40%", "保费总额的30%", "保费总额的30%；其中138,046.00元预留为合同保证金"]
    assert beijing == "保费总额的100%"


def test_contract_pages_show_headcounts_events_bases_and_memos_in_chinese(client):
    from insurance_admin.accounts.models import User

    call_command("load_demo", verbosity=0)
    call_command("load_demo_finance", verbosity=0)
    client.force_login(User.objects.get(username="finance"))
    pages = {code: client.get(f"/finance/contracts/{code}/").text
             for code in ("tongliao-2025", "taikang-2025", "zhenping-2026", "beijing-chaoyang-2026")}
    expected = {
        "tongliao-2025": ["<dd>通辽市：参保居民 2,217,285<br></dd>", "<dd>协议签订 2025-05-08</dd>"],
        "taikang-2025": ["<dd>太康县：参保人 54,667<br></dd>",
                         "（上年收入8,200,000.00 × 5% = 410,000.00，2025-01-10前缴入）", "<td>2025-01 补足</td>"],
        "zhenping-2026": ["<dd>镇平县：在职职工 3,001、退休人员 1,200<br></dd>",
                          "保费总额1,380,460.00的10% = 138,046.00，从第3期保费中预留；按年度考核结果返还",
                          "（自协议签订日2026-02-13起60个工作日内支付；服务期满2028-12-31退还）"],
        "beijing-chaoyang-2026": ["<dd>朝阳区：参保人 20,063<br></dd>", "<dd>财政资金到位 2026-01-12；收到发票 2026-01-06</dd>"],
    }
    english = ["—: resident", "411627: insured", "411324: active", "signing 2025", "fiscal_funds_arrived 2026", "invoice_received 2026",
               "deposit 10%", "withheld from installment", "released according to", "working days after signing",
               "returned at service end", "last year&#x27;s income", "by 01-10", "top-up for"]
    for code, text in pages.items():
        for chinese in expected[code]:
            assert chinese in text, (code, chinese)
        assert [e for e in english if e in text] == [], code


def test_demo_payouts_are_the_claims_and_settlements_the_fund_position_counts():
    # Taikang: the revolving fund pays approved manual claims (85 % of over_cap_amt 100,000 /
    # 140,000 / 110,000); Tongliao: the hospital payable is an imported batch of instant
    # settlements. Each payout counted once: by its claim or settlement, never by the debit.
    from claims.models import HospitalBatch
    from finance import selectors
    from finance.models import HospitalPayable, LedgerEntry
    from programs.models import Contract

    call_command("load_demo", verbosity=0)
    call_command("load_demo_finance", verbosity=0)
    taikang = selectors.fund_position(Contract.objects.get(code="taikang-2025"))
    assert (taikang.claims_manual, taikang.claims_instant, taikang.medical_spend) == (D("297500.00"), D("0.00"), D("297500.00"))
    assert taikang.usage_rate_display == "3.82%"  # 297,500.00 / usable 7,790,047.50
    assert taikang.usage.claims_paid == D("297500.00")
    debits = LedgerEntry.objects.filter(contract__code="taikang-2025", book="revolving", kind="debit").select_related("claim")
    assert sorted((e.amount, e.claim.payable, e.claim.status) for e in debits) == [
        (D("-119000.00"), D("119000.00"), "paid"), (D("-93500.00"), D("93500.00"), "paid"), (D("-85000.00"), D("85000.00"), "paid")]

    tongliao = selectors.fund_position(Contract.objects.get(code="tongliao-2025"))
    assert (tongliao.claims_instant, tongliao.hospital_payable) == (D("1286400.00"), D("1286400.00"))
    batch = HospitalBatch.objects.get(contract__code="tongliao-2025")
    assert (batch.row_count, batch.platform_total, batch.engine_total, batch.differing_count) == (
        28, D("1286400.00"), D("1286400.00"), 0)
    assert HospitalPayable.objects.get(contract__code="tongliao-2025").reference == f"hospital-batch-{batch.pk}"
