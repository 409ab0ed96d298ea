"""A renewal's roll-forward of last year's enrollments (issue 22 leftovers) on PostgreSQL: the
former per-row path (`bulk_create_with_history` in 5,000-row batches, objects built in Python)
against the job's INSERT … SELECT per committed chunk (`enrollment_carry_forward_run`), in the
same run on the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/carry_forward.py --persons 200000

Creates (drops first) a throw-away database (`--database`, default
`insurance_admin_bench_carry_forward`), migrates it, loads --persons Tongliao 2025 persons and
enrollments by COPY (the loader of bench/recompute_pg.py, no settlements), creates the 2026
draft, then (a) the former path into it, timed, emptied again, (b) the job, timed. Prints both
times, rows per second and the ratio a / b; each path's rows and history rows are counted.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from simulation import drop_database, recreate_database, setup_django  # noqa: E402


def former_path(source, target, on, chunk_size=5000) -> int:
    """The code this replaces (programs.services.enrollments_carry_forward before the job).
    Its imports wait for Django's setup (main)."""
    from django.db import transaction
    from django.db.models import Q
    from simple_history.utils import bulk_create_with_history

    from programs.models import Enrollment
    from programs.services import ROLL_FORWARD_FIELDS

    with transaction.atomic():
        in_force = (Enrollment.objects.filter(contract=source, status=Enrollment.Status.ACTIVE)
                    .filter(Q(enrolled_to__isnull=True) | Q(enrolled_to__gte=source.period_end))
                    .order_by("pk").values_list(*ROLL_FORWARD_FIELDS))
        count, batch = 0, []
        for values in in_force.iterator(chunk_size=chunk_size):
            batch.append(Enrollment(contract=target, enrolled_from=on, **dict(zip(ROLL_FORWARD_FIELDS, values, strict=True))))
            if len(batch) >= chunk_size:
                bulk_create_with_history(batch, Enrollment, batch_size=chunk_size, default_change_reason="carried forward")
                count, batch = count + len(batch), []
        if batch:
            bulk_create_with_history(batch, Enrollment, batch_size=chunk_size, default_change_reason="carried forward")
            count += len(batch)
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--database", default="insurance_admin_bench_carry_forward")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--job-only", action="store_true",
                        help="measure the job alone (the former path takes about half an hour at 2.2 M)")
    args = parser.parse_args()
    url = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = recreate_database(url, args.database)
    setup_django()
    # imported once Django is set up on the throw-away database
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from recompute_pg import load

    from finance.renewal import renewal_create
    from programs.models import Contract, Enrollment, EnrollmentCarryForward
    from programs.services import enrollment_carry_forward_run

    try:
        call_command("migrate", verbosity=0)
        load(0, args.persons)
        user = get_user_model().objects.create(username="bench", is_superuser=True)
        source = Contract.objects.get(code="tongliao-2025")
        draft = renewal_create(contract=source, user=user)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        history = Enrollment.history.model

        if args.job_only:
            a = None
            a_rows = Enrollment.objects.in_force().filter(contract=source).count()
        else:
            t0 = time.perf_counter()
            a_rows = former_path(source, draft, draft.period_start)
            a = time.perf_counter() - t0
            a_hist = history.objects.filter(contract_id=draft.pk).count()
            with connection.cursor() as cursor:  # raw: a queryset delete would write "-" history rows
                cursor.execute("DELETE FROM programs_enrollment WHERE contract_id = %s", [draft.pk])
                cursor.execute("DELETE FROM programs_historicalenrollment WHERE contract_id = %s", [draft.pk])
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE programs_enrollment")
                cursor.execute("VACUUM ANALYZE programs_historicalenrollment")

        carry = EnrollmentCarryForward.objects.create(source=source, target=draft, enrolled_from=draft.period_start,
                                                      created_by=user, progress_total=a_rows)
        t0 = time.perf_counter()
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            enrollment_carry_forward_run(carry_id=carry.pk, chunk_size=args.chunk)
        b = time.perf_counter() - t0
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:4]
        for q in slowest:
            print(f"  {float(q['time']):.2f} s  {q['sql'][:90]}")
        b_rows = Enrollment.objects.filter(contract=draft).count()
        b_hist = history.objects.filter(contract_id=draft.pk).count()
        print(f"enrollments in force: {a_rows:,}")
        if a is not None:
            print(f"(a) former per-row path (bulk_create_with_history): {a:.1f} s, {a_rows / a:,.0f} rows/s, "
                  f"{a_rows:,} rows, {a_hist:,} history rows")
        print(f"(b) job, INSERT … SELECT in chunks of {args.chunk:,}: {b:.1f} s, {b_rows / b:,.0f} rows/s, "
              f"{b_rows:,} rows, {b_hist:,} history rows")
        if a is not None:
            print(f"ratio a / b: {a / b:.1f}x")
    finally:
        if not args.keep:
            from django.db import connections
            connections.close_all()
            drop_database(url, args.database)


if __name__ == "__main__":
    main()
