"""Settlement slips: milliseconds per slip, one PDF per slip (the baseline) vs 20 slips in ONE PDF.

    .venv/bin/python bench/slip_render.py [--slips 20] [--repeat 3]

Migrates a throw-away SQLite installation, registers and approves `--slips` Zhenping claims
through the workflow, renders once to warm up (loading pango and the CJK font), then times in
the same run (median of `--repeat`), each through `claims.documents.slips_print` (print log,
content from the stored calculations, WeasyPrint):

- baseline: every slip as its own PDF, one call per claim;
- batch: all slips in one call, one PDF.

Prints ms per slip for both and the ratio baseline / batch.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup(tmp: str) -> None:
    os.environ["INSURANCE_ADMIN_VAR_DIR"] = tmp
    os.environ["DJANGO_SETTINGS_MODULE"] = "insurance_admin.settings.base"
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    import logging

    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # its per-page progress lines
    call_command("migrate", verbosity=0)


def approved_claims(n: int):
    from django.contrib.auth.models import Group

    from claims.models import Claim
    from claims.workflow import claim_transition
    from insurance_admin.accounts.models import User
    from programs.identity import with_check_char
    from programs.models import Area, Contract, Enrollment, InsuredPerson

    contract = Contract.objects.get(code="zhenping-2026")
    county, region = Area.objects.get(code="411324"), Area.objects.get(code="411300")
    caseworker = User.objects.create(username="bench_cw", first_name="经办员", is_staff=True)
    caseworker.groups.add(Group.objects.get(name="caseworker"))
    caseworker.areas.set([county])
    reviewer = User.objects.create(username="bench_rv", first_name="审核员", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="reviewer"))
    reviewer.areas.set([region])
    claims = []
    for i in range(n):
        certno = with_check_char(f"411324{dt.date(1960, 1, 1) + dt.timedelta(days=i):%Y%m%d}{i % 1000:03d}")
        person = InsuredPerson.objects.create(certno=certno, name=f"参保人{i:02d}", sex="1" if int(certno[16]) % 2 else "2",
                                              birth_date=dt.date(1960, 1, 1) + dt.timedelta(days=i), psn_no=f"ZP{i:08d}")
        Enrollment.objects.create(person=person, contract=contract, area=county, employment="retired",
                                  enrolled_from=contract.period_start)
        claim = Claim.objects.create(claim_no=f"B{i:06d}", contract=contract, person=person, area=county,
                                     registered_by=caseworker, status=Claim.Status.SUBMITTED,
                                     claim_kind="inpatient", fixmedins_name="南阳市中心医院",
                                     begndate=dt.date(2026, 2, 20), enddate=dt.date(2026, 3, 2))
        claim.settlements.create(
            contract=contract, person=person, area=county, source="manual", setl_id=f"B{i:06d}-1", psn_no=person.psn_no,
            fixmedins_name="南阳市中心医院", hosp_lv="3A", begndate=dt.date(2026, 2, 20), enddate=dt.date(2026, 3, 2),
            claim_kind="inpatient", medfee_sumamt=Decimal("162000"), inscp_scp_amt=Decimal("150000"),
            hifp_pay=Decimal("60000"), psn_cash_pay=Decimal("102000"), over_cap_amt=Decimal(10000 + 100 * i),
        )
        claims.append(claim_transition(claim=claim, to=Claim.Status.APPROVED, user=reviewer))
    return claims, caseworker


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slips", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup(tmp)
        from claims.documents import slips_print

        claims, user = approved_claims(args.slips)
        slips_print(claims=claims[:1], user=user)  # warm-up: pango, fontconfig, the CJK font

        def one_each():
            for claim in claims:
                slips_print(claims=[claim], user=user)

        def one_document():
            slips_print(claims=claims, user=user)

        single = statistics.median(timed(one_each) for _ in range(args.repeat))
        batch = statistics.median(timed(one_document) for _ in range(args.repeat))
    n = args.slips
    print(f"slips: {n}, median of {args.repeat}")
    print(f"baseline, one PDF per slip : {single:6.2f} s for {n} = {single / n * 1000:6.0f} ms per slip")
    print(f"batch, {n} slips in one PDF : {batch:6.2f} s for {n} = {batch / n * 1000:6.0f} ms per slip")
    print(f"ratio baseline / batch      : {single / batch:.2f}x")


if __name__ == "__main__":
    main()
