"""The insured registry at real scale on PostgreSQL (issue 6).

    .venv/bin/python bench/registry_generate.py var/bench/tongliao.csv
    .venv/bin/python bench/registry_generate.py var/bench/tongliao-nov.csv --changes 0.01 --exits 0.005
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_registry .venv/bin/python bench/registry_import.py \\
        var/bench/tongliao.csv var/bench/tongliao-nov.csv

Empties the registry tables of the database in DATABASE_URL (a bench database!), then measures
in the same run:

1. bare COPY of the first file into an UNLOGGED table of text columns (the floor);
2. first import of the first file: upload, validation with the rejected-rows report, apply
   (`programs.services`), in this process; peak RSS and Python allocations;
3. re-import of the second file (1 % changed, 0.5 % left out) as of 2025-12-01;
4. django-import-export's default `import_data` (a plain ModelResource) on the first 20,000
   rows, into a fresh table state, for the rows/s ratio;
5. lookup at the window: median of 1,000 `search_persons` calls by ID number and psn_no.

Run it with the other engineers' load noted: `uptime` is printed before and after.
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def empty_registry(cursor) -> None:
    from django.db import transaction

    from finance.ledger_triggers import truncate_guard_lifted

    # CASCADE reaches the ledger through claims; the bench database's ledger may go with them.
    with transaction.atomic(), truncate_guard_lifted(cursor):
        cursor.execute(
            "TRUNCATE programs_enrollmentperiod, programs_smsnotification, programs_headcountsnapshot, "
            "programs_importbatch, programs_historicalenrollment, programs_historicalinsuredperson, "
            "programs_enrollment, programs_insuredperson CASCADE"
        )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def start_bench():
    """Refuse anything but PostgreSQL, note the machine's load, empty the registry; the bench user."""
    from django.db import connection

    from insurance_admin.accounts.models import User

    if connection.vendor != "postgresql":
        sys.exit("DATABASE_URL must point at a PostgreSQL bench database")
    print("load before:", uptime())
    user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    with connection.cursor() as cur:
        empty_registry(cur)
    return user


def bare_copy(path: str) -> float:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cur.execute("CREATE UNLOGGED TABLE bench_bare_copy (" + ", ".join(f"c{i} text" for i in range(11)) + ")")
        t0 = time.perf_counter()
        with open(path, "rb") as fh, cur.cursor.copy(
            "COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'GBK')"
        ) as copy:
            while chunk := fh.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_bare_copy")
    return elapsed


class SlowStatements:
    """Print every SQL statement slower than `limit` seconds (where the time goes)."""

    def __init__(self, limit: float = 0.5):
        self.limit = limit

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - t0
            if elapsed >= self.limit:
                print(f"    {elapsed:6.1f} s  {' '.join(str(sql).split())[:110]}")


def run_import(user, path: str, effective, label: str) -> tuple[float, object]:
    import datetime as dt  # noqa: F401

    from django.core.files import File

    from programs import services
    from programs.models import Contract

    contract = Contract.objects.get(code="tongliao-2025")
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        batch = services.import_batch_create(
            user=user, contract=contract, uploaded_file=File(fh, name=os.path.basename(path)),
            effective_date=effective,
        )
    t_upload = time.perf_counter() - t0
    batch = services.import_batch_validate(batch_id=batch.pk)
    t_valid = time.perf_counter() - t0
    services.import_batch_confirm(batch=batch, user=user)
    batch = services.import_batch_apply(batch_id=batch.pk)
    total = time.perf_counter() - t0
    print(
        f"{label}: {total:.1f} s (upload+hash {t_upload:.1f} s, validation {t_valid - t_upload:.1f} s, "
        f"apply {total - t_valid:.1f} s); read {batch.rows_read:,}, valid {batch.rows_valid:,}, "
        f"rejected {batch.rows_rejected:,}; added {batch.rows_added:,}, changed {batch.rows_changed:,}, "
        f"exited {batch.rows_exited:,}, unchanged {batch.rows_unchanged:,}"
    )
    return total, batch


def import_export_baseline(path: str, rows: int) -> float:
    """django-import-export defaults: a plain ModelResource, `import_data` (not dry run)."""
    import csv

    import tablib
    from import_export import resources

    from programs.models import InsuredPerson

    class PersonResource(resources.ModelResource):
        class Meta:
            model = InsuredPerson
            fields = ("certno", "psn_no", "name", "sex", "birth_date")
            import_id_fields = ("certno",)

    data = tablib.Dataset(headers=["certno", "psn_no", "name", "sex", "birth_date"])
    with open(path, encoding="gb18030", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            if len(data) >= rows:
                break
            data.append([row["certno"], "X" + row["psn_no"], row["psn_name"], row["gend"], row["brdy"]])
    from django.db import connection

    with connection.cursor() as cur:
        empty_registry(cur)
    t0 = time.perf_counter()
    result = PersonResource().import_data(data, dry_run=False)
    elapsed = time.perf_counter() - t0
    print(f"import-export default import_data, {rows:,} rows: {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s "
          f"({result.totals})")
    return rows / elapsed


def lookups(user, n: int = 1000) -> tuple[float, float]:
    from django.db import connection

    from programs.selectors import search_persons

    with connection.cursor() as cur:
        cur.execute("SELECT certno, psn_no FROM programs_insuredperson TABLESAMPLE SYSTEM (1) LIMIT %s", [n])
        sample = cur.fetchall()
    random.Random(1).shuffle(sample)
    by_id, by_psn = [], []
    for certno, psn_no in sample:
        t0 = time.perf_counter()
        found = search_persons(user, certno, 2025)
        by_id.append(time.perf_counter() - t0)
        assert len(found.rows) == 1, certno
        t0 = time.perf_counter()
        found = search_persons(user, psn_no, 2025)
        by_psn.append(time.perf_counter() - t0)
        assert len(found.rows) == 1, psn_no
    with connection.cursor() as cur:
        cur.execute("EXPLAIN ANALYZE SELECT * FROM programs_insuredperson WHERE certno = %s", [sample[0][0]])
        print("plan by ID number:\n  " + "\n  ".join(r[0] for r in cur.fetchall()))
        cur.execute("EXPLAIN ANALYZE SELECT * FROM programs_insuredperson WHERE psn_no = %s", [sample[0][1]])
        print("plan by psn_no:\n  " + "\n  ".join(r[0] for r in cur.fetchall()))
    return statistics.median(by_id) * 1000, statistics.median(by_psn) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first")
    ap.add_argument("second")
    ap.add_argument("--baseline-rows", type=int, default=20_000)
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--skip-lookups", action="store_true")
    ap.add_argument("--slow", type=float, default=0.0, help="print SQL statements slower than this (s)")
    args = ap.parse_args()

    import django

    django.setup()
    import datetime as dt

    from django.db import connection

    user = start_bench()

    if args.slow:
        connection.execute_wrappers.append(SlowStatements(args.slow))
    copy_s = bare_copy(args.first)
    print(f"bare COPY of {args.first}: {copy_s:.1f} s")
    # (no tracemalloc: tracing every allocation of the column checks slows them several times)
    first_s, first = run_import(user, args.first, dt.date(2025, 1, 1), "first import")
    print(f"peak RSS of this process so far: {rss_mib():.0f} MiB")
    with connection.cursor() as cur:
        cur.execute("ANALYZE programs_insuredperson")
        cur.execute("ANALYZE programs_enrollment")
    second_s, second = run_import(user, args.second, dt.date(2025, 12, 1), "re-import")
    print(f"peak RSS after re-import: {rss_mib():.0f} MiB")
    id_ms = psn_ms = float("nan")
    if not args.skip_lookups:
        id_ms, psn_ms = lookups(user)
    print(f"lookup median: by ID number {id_ms:.2f} ms, by psn_no {psn_ms:.2f} ms")
    rows_per_s = first.rows_read / first_s
    baseline = None if args.skip_baseline else import_export_baseline(args.first, args.baseline_rows)
    print("load after:", uptime())
    print()
    print(f"first import {first_s:.1f} s (target < 30 s) = {first_s / copy_s:.2f}x bare COPY {copy_s:.1f} s (target <= 6x)")
    print(f"re-import {second_s:.1f} s (target < 45 s)")
    print(f"peak RSS {rss_mib():.0f} MiB (target < 256 MiB)")
    if baseline:
        print(f"rows/s {rows_per_s:,.0f} vs import-export {baseline:,.0f} = {rows_per_s / baseline:.0f}x (target >= 50x)")
    print(f"lookup median by ID number {id_ms:.2f} ms, by psn_no {psn_ms:.2f} ms (target < 5 ms)")


if __name__ == "__main__":
    main()
