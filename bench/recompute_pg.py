"""Batch recomputation of 1,000,000 stored settlements on PostgreSQL (issue: < 60 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/recompute_pg.py
    ... --records 200000      # a quicker look

Creates (drops first) a database `insurance_admin_bench` on the server of DATABASE_URL,
migrates it, loads the Tongliao seed contract with 100,000 enrolled persons and --records
settlements (10 per person, amounts spread so bases cross every band and some caps) by COPY,
then measures in the same run:

- the I/O floor: stream the same rows in settlement order and write one check row per
  settlement by COPY, with no calculation;
- `claims.services.settlements_recompute`: read, compute with the engine, write the checks.

Prints both times, records per second and the ratio recompute / floor.
"""

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "insurance_admin_bench"


def recreate_database(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return urlunparse(parsed._replace(path=f"/{BENCH_DB}"))


def load(records: int, persons: int) -> None:
    from django.db import connection

    from programs.identity import with_check_char
    from programs.models import Area, Contract

    contract = Contract.objects.get(code="tongliao-2025")
    counties = list(Area.objects.filter(parent__code="150500").values_list("pk", "code"))
    rng = random.Random(20251122)
    with connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy("COPY programs_insuredperson (id, certno, psn_no, name, sex, birth_date, phone) FROM STDIN") as copy:
            for i in range(1, persons + 1):
                area_code = counties[i % len(counties)][1]
                birth = dt.date(1940, 1, 1) + dt.timedelta(days=i // 1000)
                certno = with_check_char(f"{area_code}{birth:%Y%m%d}{i % 1000:03d}")  # valid and unique
                copy.write_row((i, certno, f"P{i:012d}", "测试", "1", birth, ""))
        with raw.copy(
            "COPY programs_enrollment (person_id, contract_id, area_id, category, category_detail, employment, health,"
            " continuous_no_claim_3y, student, enrolled_from, enrolled_to, status, source) FROM STDIN"
        ) as copy:
            for i in range(1, persons + 1):
                copy.write_row((i, contract.pk, counties[i % len(counties)][0], "special" if i % 7 == 0 else "ordinary",
                                "", "active", "healthy", False, i % 11 == 0, contract.period_start, None, "active", "group"))
        cur.execute("SELECT setval(pg_get_serial_sequence('programs_insuredperson', 'id'), %s)", [persons])
        columns = (
            "contract_id, person_id, area_id, source, setl_id, mdtrt_id, psn_no, insutype, med_type, enddate, "
            "fixmedins_code, fixmedins_name, hosp_lv, claim_kind, place, drug_list, medfee_sumamt, fulamt_ownpay_amt, "
            "overlmt_selfpay, preselfpay_amt, inscp_scp_amt, act_pay_dedc, hifp_pay, pool_prop_selfpay, hifmi_pay, "
            "hifob_pay, maf_pay, psn_part_amt, acct_pay, psn_cash_pay, over_cap_amt, drug_amount, items"
        )
        zero = Decimal("0.00")
        with raw.copy(f"COPY claims_settlement ({columns}) FROM STDIN") as copy:
            for n in range(records):
                person = 1 + n % persons
                inscp = Decimal(rng.randrange(500_000, 12_000_000)) / 100
                hifp = (inscp * Decimal("0.55")).quantize(Decimal("0.01"))
                kind = "accident_inpatient" if n % 97 == 0 else "inpatient"
                copy.write_row((
                    contract.pk, person, counties[person % len(counties)][0], "instant", f"S{n:010d}", "",
                    f"P{person:012d}", "390", "21", dt.date(2025, 1, 1) + dt.timedelta(days=n % 365), "H1", "医院",
                    "2", kind, "out_of_region" if n % 5 == 0 else "in_region", "", inscp + 1000, zero, zero, zero,
                    inscp, zero, hifp, Decimal("0.55"), zero, zero, zero, zero, zero, zero, zero, zero, "[]",
                ))
        cur.execute("ANALYZE")


def io_floor(contract) -> float:
    from django.db import connection, transaction

    from claims.models import Settlement, SettlementCheck
    from claims.services import ROW_FIELDS

    now = dt.datetime.now(dt.UTC)
    hifmi = ROW_FIELDS.index("hifmi_pay")
    start = time.perf_counter()
    with transaction.atomic():
        SettlementCheck.objects.filter(contract=contract).delete()
        rows = (Settlement.objects.filter(contract=contract).order_by("person_id", "enddate", "setl_time", "id")
                .values_list(*ROW_FIELDS).iterator(chunk_size=20000))
        chunk = []

        def flush(chunk):
            with connection.cursor() as cur, cur.cursor.copy(
                "COPY claims_settlementcheck (settlement_id, contract_id, engine_payable, engine_by_liability,"
                " platform_payable, difference, plan_version, recomputed_at, not_covered) FROM STDIN"
            ) as copy:
                for r in chunk:
                    copy.write_row((r[0], contract.pk, r[hifmi], "{}", r[hifmi], 0, 1, now, ""))

        for row in rows:
            chunk.append(row)
            if len(chunk) == 20000:
                flush(chunk)
                chunk = []
        if chunk:
            flush(chunk)
        transaction.set_rollback(True)  # leave no floor rows behind
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point to a PostgreSQL server")
    os.environ["DATABASE_URL"] = recreate_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    load(args.records, args.persons)
    print(f"loaded {args.records:,} settlements for {args.persons:,} persons in {time.perf_counter() - t0:.1f} s")

    from claims.models import SettlementCheck
    from claims.services import settlements_recompute
    from programs.models import Contract

    contract = Contract.objects.select_related("program").get(code="tongliao-2025")
    floor = io_floor(contract)
    start = time.perf_counter()
    summary = settlements_recompute(contract=contract)
    elapsed = time.perf_counter() - start
    assert SettlementCheck.objects.filter(contract=contract).count() == args.records == summary.records
    print(f"I/O floor (read in settlement order + COPY checks, no calculation): {floor:.1f} s "
          f"= {args.records / floor:,.0f} records/s")
    print(f"settlements_recompute (read, compute, write):                     {elapsed:.1f} s "
          f"= {args.records / elapsed:,.0f} records/s")
    print(f"ratio recompute / floor: {elapsed / floor:.2f}x; target < 60 s: {'met' if elapsed < 60 else 'NOT met'}")
    print(f"engine total {summary.engine_total:,}; differing from platform: {summary.differing:,}")


if __name__ == "__main__":
    main()
