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
