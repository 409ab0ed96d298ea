import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


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
