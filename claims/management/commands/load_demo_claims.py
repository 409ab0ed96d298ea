"""Demo claims in every state, registered through the real services (idempotent), so the
window's lists, deadlines and slips have something to show after `make run`."""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from claims.models import Claim
from claims.registration import claim_register, requirements_for
from claims.workflow import claim_transition
from insurance_admin.accounts.models import User
from insurance_admin.core.workdays import load_calendar
from programs.models import Contract, Enrollment

DEMO_NOTE = "演示理赔（合成数据）"
S = Claim.Status


def _record(setl_id, inscp, hifp, **extra):
    inscp, hifp = Decimal(inscp), Decimal(hifp)
    return {"setl_id": setl_id, "medfee_sumamt": inscp, "inscp_scp_amt": inscp, "hifp_pay": hifp, **extra}


class Command(BaseCommand):
    help = "Register demo manual claims in every state (skipped when they exist)."

    def handle(self, *args, **options):
        if Claim.objects.filter(notes=DEMO_NOTE).exists():
            self.stdout.write("demo claims present")
            return
        with transaction.atomic():
            count = self._tongliao() + self._zhenping()
        self.stdout.write(self.style.SUCCESS(f"{count} demo claims registered"))

    def _people(self, code, area_code, n):
        return [e.person for e in Enrollment.objects.in_force().filter(contract__code=code, area__code=area_code)
                .select_related("person").order_by("id")[:n]]

    def _register(self, user, person, contract, *, kind="inpatient", place="", received, begin, end, records, all_docs=True,
                  hospital="通辽市医院"):
        docs = requirements_for(program=contract.program, claim_kind=kind, place=place)
        return claim_register(
            user=user, person=person, contract=contract, claim_kind=kind, place=place, fixmedins_code="",
            fixmedins_name=hospital, hosp_lv="3", begndate=begin, enddate=end, records=records,
            documents=docs if all_docs else docs[:3], received_on=received, notes=DEMO_NOTE, today=received,
            bank_name="中国农业银行", bank_account="6228480000000000000",
        )

    def _tongliao(self) -> int:
        contract = Contract.objects.get(code="tongliao-2025")
        cw, rv, fi = (User.objects.get(username=u) for u in ("caseworker", "reviewer", "finance"))
        people = self._people("tongliao-2025", "150502", 6)
        claims = []
        plan = [  # (place, received, stay, inscp, hifp, target status)
            ("in_region", dt.date(2025, 3, 5), (dt.date(2025, 2, 20), dt.date(2025, 3, 2)), "52000", "30000", S.PAID),
            ("in_region", dt.date(2025, 9, 26), (dt.date(2025, 9, 10), dt.date(2025, 9, 20)), "88000", "50000", S.APPROVED),
            ("out_of_region", dt.date(2025, 11, 20), (dt.date(2025, 10, 28), dt.date(2025, 11, 12)), "126000", "70000", S.SUBMITTED),
            ("in_region", dt.date(2025, 12, 15), (dt.date(2025, 12, 1), dt.date(2025, 12, 9)), "36000", "21000", S.DOCUMENTS_COMPLETE),
            ("in_region", dt.date(2025, 12, 22), (dt.date(2025, 12, 10), dt.date(2025, 12, 18)), "24000", "15000", S.REGISTERED),
        ]
        for i, (place, received, (begin, end), inscp, hifp, target) in enumerate(plan):
            claim = self._register(cw, people[i], contract, place=place, received=received, begin=begin, end=end,
                                   records=[_record(f"DEMO-TL-{i + 1:03d}", inscp, hifp)], all_docs=target != S.REGISTERED)
            claims.append(self._advance(claim, target, cw, rv, fi))
        return len(claims)

    def _zhenping(self) -> int:
        contract = Contract.objects.get(code="zhenping-2026")
        cw, rv = User.objects.get(username="caseworker_zhenping"), User.objects.get(username="reviewer")
        today = timezone.localdate()
        calendar = load_calendar()
        received = [today - dt.timedelta(days=d) for d in (20, 9, 2)]
        received = [d if calendar.is_workday(d) else d - dt.timedelta(days=2) for d in received]
        people = self._people("zhenping-2026", "411324", 3)
        targets = [S.SUBMITTED, S.CALCULATED, S.DOCUMENTS_COMPLETE]
        for i, (person, day, target) in enumerate(zip(people, received, targets, strict=True)):
            end = day - dt.timedelta(days=12)
            claim = self._register(cw, person, contract, received=day, begin=end - dt.timedelta(days=10), end=end,
                                   records=[_record(f"DEMO-ZP-{i + 1:03d}", "95000", "60000", over_cap_amt=Decimal(10000 * (i + 1)))],
                                   hospital="南阳市中心医院")
            self._advance(claim, target, cw, rv, None)
        return len(people)

    def _advance(self, claim, target, cw, rv, fi):
        path = [S.CALCULATED, S.SUBMITTED, S.APPROVED, S.PAID]
        if target in (S.REGISTERED, S.DOCUMENTS_COMPLETE):
            return claim
        for step in path:
            actor = {S.APPROVED: rv, S.PAID: fi}.get(step, cw)
            payment = {"paid_on": claim.documents_complete_on + dt.timedelta(days=14),
                       "voucher_no": f"DEMO-{claim.claim_no}"} if step == S.PAID else {}
            claim = claim_transition(claim=claim, to=step, user=actor, **payment)
            if step == target:
                break
        return claim
