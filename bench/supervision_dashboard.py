"""The supervisor's dashboard on PostgreSQL at the size of issue 21: 1,000,000 manual claims
(each with its settlement record and its calculation) and 2,217,285 insured persons enrolled
in Tongliao 2025 over its nine counties, plus instant settlements with engine checks (one per
ten claims) and the open claims' deadline records.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/supervision_dashboard.py
    ... --claims 100000 --persons 221729      # a tenth, to time the generation first

Creates (drops first) the database `wt_dashboard_bench` (or $BENCH_DB) on the server of
DATABASE_URL, migrates it, generates the rows with INSERT … SELECT generate_series (column lists from the models, so
a new NOT NULL column is filled from its default), ANALYZEs, then measures in one run:

- the rollup refresh (`insurance_admin.kpis.rollup.rollup_refresh`, what beat runs);
- the dashboard's server time: GET /supervision/ for the contract year as a region supervisor
  (every query and the template, through Django's test client), median of --repeat (20), the
  claim figures from the rollup, the overdue counts from the open-deadline counts, the fund
  figures as of the refresh; with the CPU per request (this process + the database backend);
- the same for one county (科尔沁区);
- a period that is not whole months (2025-03-15 – 2025-05-10: month rows and day rows);
- the same period's figures computed live (the selector with `live=True`), median of --live-repeat;
- the floor: a bare `SELECT count(*) FROM claims_claim`, median of --repeat;
and prints the ratio. Figures go to docs/benchmarks.md by hand. `--generate-only` stops after
the generation; `--reuse` measures a database generated before (migrates it, no generation).
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DB", "wt_dashboard_bench")
COUNTIES = ["150502", "150581", "150523", "150524", "150525", "150526", "150521", "150522", "150571"]


def recreate_database(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return urlunparse(parsed._replace(path=f"/{BENCH_DB}"))


def _literal(field) -> str:
    """SQL for a field's default (what the ORM would have written)."""
    import json
    from decimal import Decimal

    if not field.has_default():
        return "NULL"
    value = field.get_default()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return "'" + json.dumps(value) + "'::jsonb"
    return "'" + str(value).replace("'", "''") + "'"


def insert_select(cursor, model, overrides: dict[str, str], source: str) -> None:
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.column == "id")]
    columns, values = [], []
    for f in fields:
        columns.append(f.column)
        if f.column in overrides:
            values.append(overrides[f.column])
        elif f.null:
            values.append("NULL")
        elif f.has_default():
            values.append(_literal(f))
        elif f.get_internal_type() in ("CharField", "TextField", "SlugField"):
            values.append("''")
        else:
            raise SystemExit(f"{model.__name__}.{f.name}: NOT NULL without default; add it to the overrides")
    cursor.execute(f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}")


def generate(n_claims: int, n_persons: int) -> dict:
    from django.db import connection

    from claims.models import Calculation, Claim, Settlement, SettlementCheck
    from insurance_admin.core.models import Deadline
    from programs.models import Area, Contract, Enrollment, InsuredPerson
    from tests.factories import UserFactory

    contract = Contract.objects.get(code="tongliao-2025")
    area_ids = [Area.objects.get(code=c).pk for c in COUNTIES]
    clerk = UserFactory(username="bench_clerk", role="caseworker", area_codes=["150500"])
    reviewer = UserFactory(username="bench_reviewer", role="reviewer", area_codes=["150500"])
    area_case = "(ARRAY[" + ",".join(map(str, area_ids)) + "])[1 + (g % 9)]"
    timings = {}
    with connection.cursor() as cur:
        start = time.perf_counter()
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM programs_insuredperson")
        person0 = cur.fetchone()[0]
        insert_select(cur, InsuredPerson, {
            "certno": "'150502' || lpad(g::text, 12, '0')", "name": "'参保人' || g", "sex": "CASE WHEN g % 2 = 0 THEN '2' ELSE '1' END",
            "birth_date": "DATE '1960-01-01' + (g % 15000)", "psn_no": "'P' || g",
        }, f"generate_series(1, {n_persons}) g")
        insert_select(cur, Enrollment, {
            "person_id": f"{person0} + g", "contract_id": str(contract.pk), "area_id": area_case,
            "category": "CASE WHEN g % 10 = 0 THEN 'special' ELSE 'ordinary' END", "enrolled_from": "DATE '2025-01-01'",
        }, f"generate_series(1, {n_persons}) g")
        timings["persons"] = time.perf_counter() - start

        start = time.perf_counter()
        # claim g: person p = 1 + (g * 7919) % n_persons (area of p), registered on day g % 300 of
        # 2025; 80 % paid, 10 % approved, 10 % submitted; due 14 days after documents complete
        person = f"(1 + (g::bigint * 7919) % {n_persons})"
        day = "(DATE '2025-01-02' + (g % 300))"
        status = "CASE WHEN g % 10 < 8 THEN 'paid' WHEN g % 10 = 8 THEN 'approved' ELSE 'submitted' END"
        approved = "g % 10 < 9"
        claims_source = f"generate_series(1, {n_claims}) g"
        insert_select(cur, Claim, {
            "claim_no": "'B' || lpad(g::text, 9, '0')", "contract_id": str(contract.pk), "person_id": f"{person0} + {person}",
            "area_id": f"(ARRAY[{','.join(map(str, area_ids))}])[1 + ({person} % 9)]", "status": status,
            "registered_by_id": str(clerk.pk), "registered_at": f"({day} + TIME '09:00') AT TIME ZONE 'Asia/Shanghai'",
            "documents_complete_on": day, "due_date": f"{day} + 14",
            "place": "CASE WHEN g % 7 = 0 THEN 'out_of_region' ELSE 'in_region' END",
            "fixmedins_code": "'H' || (g % 400)", "fixmedins_name": "'医院' || (g % 400)", "enddate": f"{day} - 3",
            "approved_by_id": f"CASE WHEN {approved} THEN {reviewer.pk} END",
            "approved_at": f"CASE WHEN {approved} THEN ({day} + (g % 12) + TIME '15:00') AT TIME ZONE 'Asia/Shanghai' END",
            "payable": f"CASE WHEN {approved} THEN ((g % 50000) + 100)::numeric / 100 END",
            "paid_on": f"CASE WHEN g % 10 < 8 THEN {day} + (g % 12) + (g % 5) END",
        }, claims_source)
        cur.execute("SELECT MIN(id) FROM claims_claim WHERE claim_no LIKE 'B%%'")
        claim0 = cur.fetchone()[0] - 1
        claim_rows = f"(SELECT c.*, c.id - {claim0} AS g FROM claims_claim c WHERE c.claim_no LIKE 'B%%') c"
        insert_select(cur, Settlement, {
            "contract_id": "c.contract_id", "person_id": "c.person_id", "area_id": "c.area_id", "source": "'manual'",
            "claim_id": "c.id", "setl_id": "'M' || c.g", "psn_no": "''", "enddate": "c.enddate", "claim_kind": "'inpatient'",
            "place": "c.place", "hosp_lv": "(ARRAY['1','2','3','3A'])[1 + (c.g % 4)]",
            "fixmedins_code": "c.fixmedins_code", "fixmedins_name": "c.fixmedins_name",
        }, claim_rows)
        insert_select(cur, Calculation, {
            "contract_id": "c.contract_id", "person_id": "c.person_id", "claim_id": "c.id", "setl_id": "'M' || c.g",
            "payable": "c.payable", "plan_version": "1", "created_at": "c.approved_at",
            "by_liability": "CASE WHEN c.g % 20 = 0 THEN jsonb_build_object('accident_basic', c.payable::text) "
                            "ELSE jsonb_build_object('critical_illness', c.payable::text) END",
        }, claim_rows.replace("WHERE c.claim_no", "WHERE c.payable IS NOT NULL AND c.claim_no"))
        timings["claims"] = time.perf_counter() - start

        start = time.perf_counter()
        n_instant = max(n_claims // 10, 1)
        insert_select(cur, Settlement, {
            "contract_id": str(contract.pk), "person_id": f"{person0} + {person}", "area_id": area_case, "source": "'instant'",
            "setl_id": "'I' || g", "psn_no": "''", "enddate": day, "claim_kind": "'inpatient'", "place": "'in_region'",
            "hosp_lv": "'3'", "fixmedins_code": "'H' || (g % 400)", "fixmedins_name": "'医院' || (g % 400)",
            "hifmi_pay": "((g % 90000) + 100)::numeric / 100",
        }, f"generate_series(1, {n_instant}) g")
        insert_select(cur, SettlementCheck, {
            "settlement_id": "s.id", "contract_id": "s.contract_id", "plan_version": "1", "recomputed_at": "now()",
            "platform_payable": "s.hifmi_pay", "engine_payable": "s.hifmi_pay + CASE WHEN s.id % 50 = 0 THEN 1 ELSE 0 END",
            "difference": "CASE WHEN s.id % 50 = 0 THEN 1 ELSE 0 END",
        }, "claims_settlement s WHERE s.source = 'instant'")
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(Claim).pk
        insert_select(cur, Deadline, {
            "kind": "'claim_service'", "content_type_id": str(ct), "object_id": "c.id", "label": "c.claim_no",
            "contract_id": "c.contract_id", "area_id": "c.area_id", "role": "'caseworker'", "due_date": "c.due_date",
            "working_days": "true", "remind_on": "c.due_date - 5", "state": "'overdue'", "created_at": "now()",
            "updated_at": "now()",
        }, "claims_claim c WHERE c.status NOT IN ('paid') AND c.due_date IS NOT NULL")
        timings["instant_and_deadlines"] = time.perf_counter() - start
        start = time.perf_counter()
        cur.execute("ANALYZE")
        timings["analyze"] = time.perf_counter() - start
    return timings


def backend_cpu_seconds() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (same host: /proc)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_ms(func, repeat: int) -> tuple[float, list[float], str]:
    """Median wall time (ms), every time, and the CPU per call (this process + the database
    backend): on a loaded machine the CPU says what the work costs, the wall time what it waited."""
    times = []
    cpu, backend = time.process_time(), backend_cpu_seconds()
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    python_ms = (time.process_time() - cpu) * 1000 / repeat
    backend_ms = (backend_cpu_seconds() - backend) * 1000 / repeat
    return statistics.median(times), times, f"{python_ms:.0f} + {backend_ms:.0f} ms (python + postgres)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=2_217_285)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--live-repeat", type=int, default=3, help="repeats of the all-live figures (slow at full size)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a previous run (migrate only, no generation)")
    parser.add_argument("--generate-only", action="store_true", help="stop after the generation (then measure with --reuse)")
    args = parser.parse_args()
    if args.reuse:
        parsed = urlparse(os.environ["DATABASE_URL"])
        os.environ["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{BENCH_DB}"))
    else:
        os.environ["DATABASE_URL"] = recreate_database(os.environ["DATABASE_URL"])
    # the test settings: static files from the finders (no collectstatic manifest needed), same database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    settings.ALLOWED_HOSTS = ["*"]
    setup_test_environment()
    start = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - start:.1f} s")
    if not args.reuse:
        timings = generate(args.claims, args.persons)
        print("generation: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + f" (total {sum(timings.values()):.1f} s)")
    if args.generate_only:
        return

    from programs.models import Area, Contract
    from tests.factories import UserFactory

    contract = Contract.objects.get(code="tongliao-2025")
    from django.contrib.auth import get_user_model

    supervisor = get_user_model().objects.filter(username="bench_supervisor").first() or UserFactory(
        username="bench_supervisor", role="supervisor", area_codes=["150500"])
    client = Client()
    client.force_login(supervisor)
    region = {"contract": contract.pk, "start": "2025-01-01", "end": "2025-12-31"}
    county = {**region, "area": Area.objects.get(code="150502").pk}

    def page(params):
        response = client.get("/supervision/", params)
        assert response.status_code == 200, response.status_code
        return response

    def count():
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM claims_claim")
            return cur.fetchone()[0]

    from insurance_admin.kpis.rollup import rollup_refresh

    start = time.perf_counter()
    run = rollup_refresh(contract)
    print(f"rollup refresh: {time.perf_counter() - start:.1f} s, {run.rows:,} rows")
    n = count()
    body = page(region).content.decode()
    assert "每10分钟" in body, "the page is not served from the rollup"
    assert "监管看板" in body
    page(region)  # warm caches (plans, calendar, templates)
    region_ms, region_all, region_cpu = median_ms(lambda: page(region), args.repeat)
    county_ms, _, county_cpu = median_ms(lambda: page(county), args.repeat)
    floor_ms, _, floor_cpu = median_ms(count, args.repeat)
    # a period that is not whole months: month rows for April, day rows for the edges
    partial = {**region, "start": "2025-03-15", "end": "2025-05-10"}
    assert "每10分钟" in page(partial).content.decode(), "the partial period is not served from the rollup"
    partial_ms, _, partial_cpu = median_ms(lambda: page(partial), args.repeat)
    # every figure live (the selector's `live=True`: what the rollup saves)
    from insurance_admin.dashboards import selectors

    live_selection = selectors.Selection(contract, None, [contract.program.region.code], dt.date(2025, 3, 15),
                                         dt.date(2025, 5, 10))
    live_ms, _, live_cpu = median_ms(lambda: selectors.dashboard(live_selection, live=True), args.live_repeat)
    load = os.getloadavg()
    print(f"claims: {n:,}; persons: {args.persons:,}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(f"dashboard, whole contract year (region): median {region_ms:.0f} ms of {args.repeat} "
          f"(min {min(region_all):.0f}, max {max(region_all):.0f}); CPU {region_cpu}")
    print(f"dashboard, one county (科尔沁区): median {county_ms:.0f} ms; CPU {county_cpu}")
    print(f"dashboard, 2025-03-15 – 2025-05-10 (region, not whole months): median {partial_ms:.0f} ms; CPU {partial_cpu}")
    print(f"floor SELECT count(*) FROM claims_claim: median {floor_ms:.1f} ms; CPU {floor_cpu}")
    print(f"figures of 2025-03-15 – 2025-05-10 computed live (selector only): median {live_ms:.0f} ms of {args.live_repeat}")
    print(f"ratio region / floor: {region_ms / floor_ms:.1f}x; county / floor: {county_ms / floor_ms:.1f}x; "
          f"partial / floor: {partial_ms / floor_ms:.1f}x; live / floor: {live_ms / floor_ms:.1f}x")
    print(f"target < 500 ms: {'met' if region_ms < 500 else 'NOT met'}; "
          f"pre-aggregated < 100 ms: {'met' if max(region_ms, county_ms) < 100 else 'NOT met'}")

if __name__ == "__main__":
    main()
