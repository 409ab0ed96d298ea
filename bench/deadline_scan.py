"""The daily deadline scan and the monthly statements on PostgreSQL (issue 20: scan < 60 s over
1,000,000 claims with their deadlines and 2,217,285 insured persons; a scan with nothing
changed writes nothing; the four contracts' monthly statements < 30 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/deadline_scan.py
    ... --claims 100000 --persons 200000      # a quicker look

Creates (drops first) a database `insurance_admin_bench_deadlines` on the server of
DATABASE_URL, migrates it (the seed contracts, their plans, report terms and the holiday
calendar), then loads by COPY:

- --persons insured persons, each enrolled in one of the four contracts, spread over their
  counties;
- --claims manual-claim service deadlines (kind claim_service, one per claim id; the claim rows
  themselves are not generated: the scan reads only the deadline records): 96 % met (paid),
  the rest open and due from 30 days before to 30 days after the scan day, in every county;
- the four contracts' other obligations, derived by the apps' own backfill (installments,
  hospital payments, revolving fund, pre-payment, deposits, service window, annual audit,
  periodic reports);
- one caseworker, one finance user and one supervisor per county and region, with e-mail
  addresses (the dummy mail backend: the e-mail step runs, nothing leaves); --no-email leaves
  the addresses empty to measure the states and the inbox alone.

Measures in one run, with the bare `SELECT count(*)` of the deadlines as the yardstick:

1. the first scan on the scan day (every stored state recomputed, every reminder due created);
2. the same scan again: nothing changed, so nothing may be written (rows, `updated_at` and
   notifications are compared before and after; the script fails if anything moved);
3. the next day's scan (the daily increment);
4. the monthly statement (PDF + XLSX, every book) of each of the four contracts.
"""

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "insurance_admin_bench_deadlines"
SCAN_DAY = dt.date(2025, 10, 20)


def recreate_database(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    admin_url = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return urlunparse(parsed._replace(path=f"/{BENCH_DB}"))


def load_persons(persons: int) -> None:
    from django.db import connection

    from programs.identity import with_check_char
    from programs.models import Area, Contract

    contracts = []
    for contract in Contract.objects.select_related("program__region").order_by("code"):
        counties = list(Area.objects.filter(parent=contract.program.region).values_list("pk", "code")) or [
            (contract.program.region_id, contract.program.region.code)]
        contracts.append((contract, counties))
    with connection.cursor() as cur:
        raw = cur.cursor
        with raw.copy("COPY programs_insuredperson (id, certno, psn_no, name, sex, birth_date, phone) FROM STDIN") as copy:
            for i in range(1, persons + 1):
                _contract, counties = contracts[i % len(contracts)]
                area_code = counties[i % len(counties)][1][:6].ljust(6, "0")
                birth = dt.date(1930, 1, 1) + dt.timedelta(days=i // 1000)
                certno = with_check_char(f"{area_code}{birth:%Y%m%d}{i % 1000:03d}")
                copy.write_row((i, certno, f"P{i:012d}", "测试", "1", birth, ""))
        with raw.copy(
            "COPY programs_enrollment (person_id, contract_id, area_id, category, category_detail, employment, health,"
            " continuous_no_claim_3y, student, enrolled_from, enrolled_to, status, source) FROM STDIN"
        ) as copy:
            for i in range(1, persons + 1):
                contract, counties = contracts[i % len(contracts)]
                copy.write_row((i, contract.pk, counties[i % len(counties)][0], "ordinary", "", "active", "healthy", False,
                                False, contract.period_start, None, "active", "group"))
        cur.execute("SELECT setval(pg_get_serial_sequence('programs_insuredperson', 'id'), %s)", [persons])


def load_claim_deadlines(claims: int) -> None:
    """One claim_service deadline per claim id by INSERT … SELECT: 96 % met, the rest open and
    due within 30 days either side of the scan day, over every county of every contract."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from claims.models import Claim
    from programs.models import Area, Contract

    ct = ContentType.objects.get_for_model(Claim).pk
    pairs = [(c.pk, a.pk) for c in Contract.objects.select_related("program") for a in
             (list(Area.objects.filter(parent_id=c.program.region_id)) or [c.program.region])]
    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_pairs (n int PRIMARY KEY, contract_id bigint, area_id bigint)")
        cur.executemany("INSERT INTO bench_pairs VALUES (%s, %s, %s)", [(n, c, a) for n, (c, a) in enumerate(pairs)])
        cur.execute(f"""
            INSERT INTO core_deadline (kind, content_type_id, object_id, label, link, contract_id, area_id, role,
                due_date, working_days, provisional, rule, remind_on, state, met_on, met_at, met_what, consequence,
                created_at, updated_at)
            SELECT 'claim_service', %s, g, 'MC' || lpad(g::text, 10, '0'), '/claims/' || g || '/', p.contract_id,
                p.area_id, 'caseworker', d.due, true, false, '', d.due - 3, 'upcoming',
                CASE WHEN g %% 25 = 0 THEN NULL ELSE d.due - 2 END,
                CASE WHEN g %% 25 = 0 THEN NULL ELSE now() END,
                CASE WHEN g %% 25 = 0 THEN '' ELSE 'claim paid' END, '', now(), now()
            FROM generate_series(1, %s) g
            JOIN bench_pairs p ON p.n = g %% {len(pairs)}
            CROSS JOIN LATERAL (SELECT %s::date + ((g::bigint * 7919) %% 61 - 30)::int AS due) d
        """, [ct, claims, SCAN_DAY])
        cur.execute("ANALYZE core_deadline")


def users(email: bool) -> None:
    from insurance_admin.accounts.roles import sync_role_groups
    from programs.models import Area, Contract
    from tests.factories import UserFactory

    sync_role_groups()
    areas = {a for c in Contract.objects.select_related("program__region") for a in
             [c.program.region, *Area.objects.filter(parent_id=c.program.region_id)]}
    for area in sorted(areas, key=lambda a: a.code):
        for role in ("caseworker", "finance", "supervisor"):
            UserFactory(username=f"{role}_{area.code}", role=role, area_codes=[area.code],
                        email=f"{role}.{area.code}@example.cn" if email else "")


def snapshot() -> tuple:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT count(*), max(updated_at), sum(hashtext(state)) FROM core_deadline")
        deadlines = cur.fetchone()
        cur.execute("SELECT count(*), count(emailed_at), max(id) FROM core_notification")
        notes = cur.fetchone()
    return deadlines, notes


PARTS: dict[str, float] = {}


def instrument() -> None:
    """Time the scan's steps: the inbox rows and the e-mails (each e-mail is claimed and
    committed on its own row, so its share grows with the number of new reminders)."""
    from insurance_admin.core import deadlines

    for name in ("notifications_create", "notifications_email"):
        original = getattr(deadlines, name)

        def wrapper(*a, _original=original, _name=name, **kw):
            start = time.perf_counter()
            try:
                return _original(*a, **kw)
            finally:
                PARTS[_name] = time.perf_counter() - start

        setattr(deadlines, name, wrapper)


def timed(label: str, func):
    start = time.perf_counter()
    out = func()
    elapsed = time.perf_counter() - start
    parts = ""
    if PARTS:
        create, email = PARTS.get("notifications_create", 0), PARTS.get("notifications_email", 0)
        parts = f" (states {elapsed - create - email:.2f} s, inbox rows {create:.2f} s, e-mails {email:.2f} s)"
        PARTS.clear()
    print(f"{label}: {elapsed:.2f} s{parts}")
    return elapsed, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=2_217_285)
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--no-email", action="store_true", help="users without e-mail: the inbox only")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point to a PostgreSQL server")
    os.environ["DATABASE_URL"] = recreate_database(url)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ.setdefault("MEDIA_ROOT", f"/tmp/{BENCH_DB}-media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the bench users only
    from django.core.management import call_command
    from django.db import connection

    from insurance_admin.core.deadlines import deadlines_backfill, deadlines_scan
    from insurance_admin.core.models import Deadline

    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    load_persons(args.persons)
    print(f"loaded {args.persons:,} insured persons and enrollments in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    load_claim_deadlines(args.claims)
    backfilled = deadlines_backfill()
    users(email=not args.no_email)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE core_deadline")
    total = Deadline.objects.count()
    print(f"loaded {args.claims:,} claim deadlines, backfilled {backfilled} other obligations "
          f"({total:,} deadlines) in {time.perf_counter() - start:.1f} s")

    def bare_count():
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM core_deadline")
            return cur.fetchone()[0]

    count_s, _n = timed("bare SELECT count(*) of the deadlines", bare_count)
    instrument()
    first_s, first = timed(f"first scan {SCAN_DAY}", lambda: deadlines_scan(today=SCAN_DAY))
    print(f"    {first.states_changed:,} states changed, {first.notifications_created:,} notifications, "
          f"{first.emails_sent:,} e-mails")
    before = snapshot()
    again_s, again = timed(f"the same scan again (nothing changed) {SCAN_DAY}", lambda: deadlines_scan(today=SCAN_DAY))
    after = snapshot()
    wrote = (again.states_changed, again.notifications_created, again.emails_sent)
    print(f"    wrote {wrote} (states, notifications, e-mails); deadlines/notifications before == after: {before == after}")
    if wrote != (0, 0, 0) or before != after:
        sys.exit(f"a scan with nothing changed wrote something: {before} -> {after}")
    next_day = SCAN_DAY + dt.timedelta(days=1)
    next_s, nxt = timed(f"next day's scan {next_day}", lambda: deadlines_scan(today=next_day))
    print(f"    {nxt.states_changed:,} states changed, {nxt.notifications_created:,} notifications, "
          f"{nxt.emails_sent:,} e-mails")
    print(f"ratios to the bare count ({count_s:.3f} s): first {first_s / count_s:.0f}x, unchanged "
          f"{again_s / count_s:.0f}x, next day {next_s / count_s:.0f}x; target < 60 s: "
          f"{'met' if max(first_s, next_s) < 60 else 'NOT met'}")

    if not args.skip_reports:
        from insurance_admin.reporting.services import generate_report, report_books
        from programs.models import Contract

        def statements():
            runs = 0
            for contract in Contract.objects.select_related("program__region").order_by("code"):
                month = contract.period_start.strftime("%Y-%m")
                for book in report_books(contract):
                    area = None if book.pk == contract.program.region_id else book
                    generate_report("monthly", contract, month, area=area)
                    runs += 1
            return runs

        reports_s, runs = timed("monthly statements of the four contracts (PDF + XLSX, every book)", statements)
        print(f"    {runs} runs, {reports_s / runs:.2f} s each; target < 30 s: {'met' if reports_s < 30 else 'NOT met'}")


if __name__ == "__main__":
    main()
