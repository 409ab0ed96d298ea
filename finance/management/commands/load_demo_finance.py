"""Demo money for the finance pages, booked through the real services (idempotent: skipped
once the seed contracts have premium schedules). Amounts follow DOMAIN.md §5; dates are the
contracts' own or plausible ones, marked as demo in the entries' memos.

Every payout is backed by what the fund position counts as medical spend, so the pages
agree with each other: the Tongliao hospital payable comes from an imported hospital batch
of instant settlements (as in production), and the Taikang revolving-fund debits pay
approved manual claims (the debit names its claim). A payout without them would show on
the ledger while the fund usage stayed at 0.00."""

import csv
import datetime as dt
import io
from decimal import Decimal

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction

from claims import imports
from claims.models import Claim
from claims.registration import claim_register, requirements_for
from claims.workflow import claim_transition
from finance import services
from finance.calculations.seed import FISCAL_FUNDS_ARRIVED, INVOICE_RECEIVED
from finance.models import PremiumSchedule
from finance.seed import load_finance_seed
from insurance_admin.accounts.models import User
from programs.coverage import coverage_timelines
from programs.models import Contract, Enrollment, HeadcountSnapshot
from programs.services import headcount_snapshot_take

D = Decimal
DEMO_PAYOUT_NOTE = "演示理赔（周转金支付，合成数据）"

#: Tongliao, October 2025, 通辽市医院: 27 ordinary in-region inpatients with a critical-illness
#: base (inscp − hifp) of 80,000 each pay 9,600 + 14,000 + 24,000 = 47,600 each, one with a
#: base of 16,000 pays 60 % × 2,000 = 1,200: 27 × 47,600 + 1,200 = 1,286,400.00 payable.
TONGLIAO_BATCH = [("110000.00", "47600.00")] * 27 + [("46000.00", "1200.00")]
TONGLIAO_COLUMNS = [
    "setl_id", "mdtrt_id", "psn_no", "certno", "psn_name", "insutype", "med_type", "begndate", "enddate", "setl_time",
    "fixmedins_code", "fixmedins_name", "hosp_lv", "claim_kind", "place", "medfee_sumamt", "fulamt_ownpay_amt",
    "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "hifmi_pay", "hifob_pay", "maf_pay",
    "psn_part_amt", "acct_pay", "psn_cash_pay",
]
#: Taikang manual claims paid from the revolving fund: (month, over_cap_amt); local, active
#: employees at a non-3A hospital are paid 85 % of it: 85,000.00, 119,000.00, 93,500.00.
TAIKANG_CLAIMS = [(1, "100000.00"), (2, "140000.00"), (3, "110000.00")]


class Command(BaseCommand):
    help = "Premium schedules, receipts, the revolving fund, pre-payment and a hospital payable for the demo."

    def handle(self, *args, **options):
        if PremiumSchedule.objects.exists():
            self.stdout.write("demo finance present")
            return
        user = User.objects.get(username="finance")
        with transaction.atomic():
            load_finance_seed(apps)  # the seed contracts' finance terms, if a flush took them
            self._tongliao(user)
            self._taikang(user)
            self._zhenping(user)
            self._beijing(user)
        self.stdout.write(self.style.SUCCESS("demo finance booked"))

    def _tongliao(self, user):
        contract = Contract.objects.get(code="tongliao-2025")
        # the registry counted per county on the provisional cut-off (2025-04-30): the nine
        # county books carry their share of the premium computed on the city-wide headcount
        if not contract.headcount_snapshots.exists():
            headcount_snapshot_take(contract=contract, kind=HeadcountSnapshot.Kind.PROVISIONAL, user=user)
        services.premium_schedule_generate(contract=contract, user=user, event_dates={"signing": dt.date(2025, 5, 8)})
        first, second = contract.premium_installments.order_by("seq")[:2]
        services.installment_record_receipt(installment=first, amount=first.amount, received_on=dt.date(2025, 6, 5), user=user,
                                            reference="演示：财政拨付")
        services.installment_record_receipt(installment=second, amount=D("30000000.00"), received_on=dt.date(2025, 12, 18),
                                            user=user, reference="演示：部分拨付")
        self._tongliao_hospital_batch(contract, user)

    def _tongliao_hospital_batch(self, contract, user):
        """October's instant settlements of 通辽市医院 imported as a hospital batch and handed to
        finance as the payable (the production path), so 赔付支出（即时结算） shows them."""
        used = set(Enrollment.objects.in_force().filter(contract=contract, area__code="150502").order_by("id")
                   .values_list("id", flat=True)[:6])  # the persons of the demo manual claims
        candidates = (Enrollment.objects.in_force().filter(contract=contract, area__code="150502", category="ordinary")
                      .exclude(id__in=used).select_related("person").order_by("id"))
        covered = coverage_timelines(contract=contract, person_ids=candidates.values("person_id"))
        discharged = dt.date(2025, 10, 20)  # only persons covered on the discharge date (programs.coverage)
        enrollments = [e for e in candidates if covered[e.person_id].on(discharged).covered][:len(TONGLIAO_BATCH)]
        rows = []
        for i, (enrollment, (inscp, hifmi)) in enumerate(zip(enrollments, TONGLIAO_BATCH, strict=True), start=1):
            person = enrollment.person
            rows.append({
                "setl_id": f"DEMO-TL-H-{i:03d}", "mdtrt_id": f"DEMO-TL-M-{i:03d}", "psn_no": person.psn_no,
                "certno": person.certno, "psn_name": person.name, "insutype": "390", "med_type": "21",
                "begndate": "2025-10-08", "enddate": "2025-10-20", "setl_time": "2025-10-20 10:00:00",
                "fixmedins_code": "H15050200001", "fixmedins_name": "通辽市医院", "hosp_lv": "3", "claim_kind": "inpatient",
                "place": "in_region", "medfee_sumamt": str(D(inscp) + D("8000.00")), "fulamt_ownpay_amt": "5000.00",
                "overlmt_selfpay": "1000.00", "preselfpay_amt": "2000.00", "inscp_scp_amt": inscp, "act_pay_dedc": "800.00",
                "hifp_pay": "30000.00", "hifmi_pay": hifmi, "hifob_pay": "0", "maf_pay": "0", "psn_part_amt": "0",
                "acct_pay": "0", "psn_cash_pay": "0",
            })
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=TONGLIAO_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        upload = SimpleUploadedFile("demo-tongliao-2025-10-H15050200001.csv", out.getvalue().encode(), content_type="text/csv")
        batch = imports.batch_upload(contract=contract, month=dt.date(2025, 10, 1), uploaded_file=upload, user=user,
                                     reported_on=dt.date(2025, 11, 5))
        batch = imports.batch_validate(batch.pk)
        if batch.status != batch.Status.VALIDATED:
            raise RuntimeError(f"demo hospital batch refused: {imports.rendered_errors(batch.errors)}")
        imports.batch_confirm(batch=batch, user=user)
        imports.batch_payable_post(batch=imports.batch_apply(batch.pk), user=user)

    def _taikang(self, user):
        contract = Contract.objects.get(code="taikang-2025")
        services.premium_schedule_generate(contract=contract, user=user, headcounts={"411627": {"insured": 54667}})
        first = contract.premium_installments.order_by("seq").first()
        services.installment_record_receipt(installment=first, amount=first.amount, received_on=dt.date(2025, 3, 25), user=user)
        fund = services.revolving_fund_open(contract=contract, last_year_income=D("8200000.00"), user=user)
        services.revolving_fund_record_opening(fund=fund, amount=fund.opening_amount, paid_on=dt.date(2025, 1, 8), user=user)
        for claim in self._taikang_claims(contract):  # paying a claim debits the revolving fund (claims.hooks)
            topup = services.revolving_topup_compute(fund=fund, month=claim.paid_on.replace(day=1), user=user)
            services.revolving_topup_record_payment(topup=topup, paid_on=claim.paid_on + dt.timedelta(days=5), user=user)

    def _taikang_claims(self, contract) -> list[Claim]:
        """Manual claims registered at the Taikang window and approved, which the revolving fund pays."""
        cw, rv, fi = (User.objects.get(username=u) for u in ("caseworker_taikang", "reviewer", "finance"))
        people = [e.person for e in Enrollment.objects.in_force().filter(contract=contract, area__code="411627", category="ordinary",
                                                                          employment="active").select_related("person").order_by("id")[:3]]
        docs = requirements_for(program=contract.program, claim_kind="inpatient", place="local")
        claims = []
        for i, (person, (month, over_cap)) in enumerate(zip(people, TAIKANG_CLAIMS, strict=True), start=1):
            end, received = dt.date(2025, month, 10), dt.date(2025, month, 13)
            inscp = D("80000.00") + D(over_cap) + D("6000.00")
            claim = claim_register(
                user=cw, person=person, contract=contract, claim_kind="inpatient", place="local", fixmedins_code="",
                fixmedins_name="太康县人民医院", hosp_lv="2", begndate=end - dt.timedelta(days=12), enddate=end,
                records=[{"setl_id": f"DEMO-TK-{i:03d}", "medfee_sumamt": inscp, "inscp_scp_amt": inscp,
                          "hifp_pay": D("80000.00"), "over_cap_amt": D(over_cap)}],
                documents=docs, received_on=received, notes=DEMO_PAYOUT_NOTE, today=received,
                bank_name="中国农业银行", bank_account="6228480000000000000",
            )
            for step, actor in ((Claim.Status.CALCULATED, cw), (Claim.Status.SUBMITTED, cw), (Claim.Status.APPROVED, rv)):
                claim = claim_transition(claim=claim, to=step, user=actor)
            claim = claim_transition(claim=claim, to=Claim.Status.PAID, user=fi, paid_on=dt.date(2025, month, 25),
                                     voucher_no=f"演示-{claim.claim_no}")
            claims.append(claim)
        return claims

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
