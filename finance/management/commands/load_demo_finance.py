"""Demo money for the finance pages, booked through the real services (idempotent: skipped
once the seed contracts have premium schedules). Amounts follow DOMAIN.md §5; dates are the
contracts' own or plausible ones, marked as demo in the entries' memos."""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction

from finance import services
from finance.calculations.seed import FISCAL_FUNDS_ARRIVED, INVOICE_RECEIVED
from finance.models import PremiumSchedule
from insurance_admin.accounts.models import User
from programs.models import Area, Contract

D = Decimal


class Command(BaseCommand):
    help = "Premium schedules, receipts, the revolving fund, pre-payment and a hospital payable for the demo."

    def handle(self, *args, **options):
        if PremiumSchedule.objects.exists():
            self.stdout.write("demo finance present")
            return
        user = User.objects.get(username="finance")
        with transaction.atomic():
            self._tongliao(user)
            self._taikang(user)
            self._zhenping(user)
            self._beijing(user)
        self.stdout.write(self.style.SUCCESS("demo finance booked"))

    def _tongliao(self, user):
        contract = Contract.objects.get(code="tongliao-2025")
        services.premium_schedule_generate(contract=contract, user=user, event_dates={"signing": dt.date(2025, 5, 8)})
        first, second = contract.premium_installments.order_by("seq")[:2]
        services.installment_record_receipt(installment=first, amount=first.amount, received_on=dt.date(2025, 6, 5), user=user,
                                            reference="演示：财政拨付")
        services.installment_record_receipt(installment=second, amount=D("30000000.00"), received_on=dt.date(2025, 12, 18),
                                            user=user, reference="演示：部分拨付")
        services.hospital_payable_record(contract=contract, area=Area.objects.get(code="150502"), fixmedins_code="H15050200001",
                                         fixmedins_name="通辽市医院", period=dt.date(2025, 10, 1), amount=D("1286400.00"),
                                         due_date=None, reference="demo-tongliao-2025-10-H15050200001", user=user)

    def _taikang(self, user):
        contract = Contract.objects.get(code="taikang-2025")
        services.premium_schedule_generate(contract=contract, user=user, headcounts={"411627": {"insured": 54667}})
        first = contract.premium_installments.order_by("seq").first()
        services.installment_record_receipt(installment=first, amount=first.amount, received_on=dt.date(2025, 3, 25), user=user)
        fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=user)
        services.revolving_fund_record_opening(fund=fund, amount=fund.opening_amount, paid_on=dt.date(2025, 1, 8), user=user)
        for month, amount in ((1, "86500.00"), (2, "124300.00"), (3, "97800.00")):
            paid_on = dt.date(2025, month, 25)
            services.revolving_fund_debit(fund=fund, amount=D(amount), paid_on=paid_on, user=user, memo="演示：手工报销支付")
            topup = services.revolving_topup_compute(fund=fund, month=dt.date(2025, month, 1), user=user)
            services.revolving_topup_record_payment(topup=topup, paid_on=paid_on + dt.timedelta(days=5), user=user)

    def _zhenping(self, user):
        contract = Contract.objects.get(code="zhenping-2026")
        services.premium_schedule_generate(contract=contract, user=user, headcounts={"411324": {"active": 3001, "retired": 1200}})
        first, second = contract.premium_installments.order_by("seq")[:2]
        services.installment_record_receipt(installment=first, amount=first.amount, received_on=dt.date(2026, 3, 28), user=user)
        services.installment_record_receipt(installment=second, amount=second.amount - second.withheld,
                                            received_on=dt.date(2026, 6, 29), user=user)
        prepayment = services.prepayment_open(contract=contract, user=user)
        services.prepayment_record(prepayment=prepayment, amount=prepayment.amount, on_date=dt.date(2026, 5, 12), returned=False,
                                   user=user)

    def _beijing(self, user):
        contract = Contract.objects.get(code="beijing-chaoyang-2026")
        services.premium_schedule_generate(contract=contract, user=user)
        services.premium_event_record(contract=contract, event=FISCAL_FUNDS_ARRIVED, on_date=dt.date(2026, 1, 12), user=user)
        services.premium_event_record(contract=contract, event=INVOICE_RECEIVED, on_date=dt.date(2026, 1, 6), user=user)
        only = contract.premium_installments.get()
        services.installment_record_receipt(installment=only, amount=only.amount, received_on=dt.date(2026, 1, 16), user=user,
                                            reference="演示：一次性支付")
