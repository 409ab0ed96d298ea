"""Renewal simulation (测算, issue 22) over 1,000,000 stored settlements on PostgreSQL
(issue: < 60 s, within 2x the I/O floor, peak worker memory < 512 MiB).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/simulation.py
    ... --records 100000      # a quicker look

Creates (drops first) a throw-away database (`--database`, default
`insurance_admin_bench_simulation`) on the server of DATABASE_URL, migrates it, loads the
Tongliao seed contract with --persons enrolled persons and --records settlements by COPY (the
loader of bench/recompute_pg.py), generates the premium schedule, then measures in a fresh
process (so its peak memory is the worker's, not the loader's), in the same run:

- (a) the I/O floor as first defined: every engine column (`values_list(*ROW_FIELDS)` in
  settlement order) iterated with the same chunk size, rows gathered into chunks, no engine;
- (a2) the simulation's own query, no engine: the columns it reads (`_column_rows`: person id,
  discharge date, record codes, the amounts the two plans read in fen), fetched in chunks
  exactly as `simulate` fetches them (on older code the record layout `_record_rows`; without
  either, (a2) is not measured);
- (b) `finance.simulation.simulate` with a scenario (every band's rate raised by 5 points).

Prints the times, records per second, the ratios b / a and b / a2 in wall time and in this
process's CPU time (target <= 2x) and the peak resident memory (ru_maxrss) after each step
(target < 512 MiB).
"""

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DEFAULT_DB = "insurance_admin_bench_simulation"
CHUNK = 5000  # the simulation's own default (finance.simulation.simulate)


def recreate_database(url: str, name: str) -> str:
    import psycopg

    if name in ("test", "postgres"):
        sys.exit(f"refusing to use the database {name!r}")
    parsed = urlparse(url)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return urlunparse(parsed._replace(path=f"/{name}"))


def drop_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(urlunparse(urlparse(url)._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")
    import django

    django.setup()


def prepare(records: int, persons: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from recompute_pg import load

    t0 = time.perf_counter()
    load(records, persons)
    from django.contrib.auth import get_user_model

    from finance.services import premium_schedule_generate
    from programs.models import Contract

    user = get_user_model().objects.create(username="bench")
    contract = Contract.objects.get(code="tongliao-2025")
    premium_schedule_generate(contract=contract, user=user, headcounts={"": {"resident": persons}})
    print(f"loaded {records:,} settlements for {persons:,} persons in {time.perf_counter() - t0:.1f} s", flush=True)


def cpu() -> float:
    """This process's CPU seconds (user + system): the Python side of the work, without the
    database server's share and without waiting for a busy machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def io_floor(contract) -> tuple[float, int]:
    """The simulation's query and chunking, nothing else."""
    from claims.models import Settlement
    from claims.services import ROW_FIELDS

    start = time.perf_counter()
    rows = (Settlement.objects.filter(contract=contract).order_by("person_id", "enddate", "setl_time", "id")
            .values_list(*ROW_FIELDS).iterator(chunk_size=CHUNK))
    n, chunk = 0, []
    for row in rows:
        chunk.append(row)
        n += 1
        if len(chunk) == CHUNK:
            chunk = []
    return time.perf_counter() - start, n


def own_query_floor(contract, scenario) -> float | None:
    """The simulation's own query and fetches, nothing else: the columnar read
    (`_column_rows`: ids, dates, codes, amounts in fen) where the simulation has it, else the
    record-layout read (`_record_rows`) of the code before it."""
    try:
        from finance.simulation import _chunks, _record_rows
    except ImportError:  # the code before the query was narrowed
        return None
    from claims.engine import compile_plan
    from claims.models import Settlement
    from claims.services import plan_of
    from finance.simulation import scenario_plan
    from programs.benefit_rules.glossary import AMOUNT_FIELDS

    start = time.perf_counter()
    fields = set(compile_plan(plan_of(contract).engine_plan()).amount_fields)
    fields |= set(compile_plan(scenario_plan(scenario.plan)).amount_fields)
    try:
        from finance.simulation import _column_rows

        rows = _column_rows(Settlement.objects.filter(contract=contract), tuple(f for f in AMOUNT_FIELDS if f in fields))
    except ImportError:
        rows = _record_rows(Settlement.objects.filter(contract=contract), fields)
    n = 0
    for chunk in _chunks(rows, CHUNK):
        n += len(chunk)
    return time.perf_counter() - start


def raised(plan: dict) -> dict:
    plan = copy.deepcopy(plan)
    for liability in plan["liabilities"]:
        for row in liability.get("schedule", []):
            for band in row.get("bands", []):
                if not isinstance(band["rate"], dict):
                    band["rate"] = str(min(Decimal(str(band["rate"])) + Decimal("0.05"), Decimal("1")))
    return plan


def measure(profile: str | None) -> dict:
    from claims.services import plan_of
    from finance.simulation import Scenario, simulate
    from programs.models import Contract

    contract = Contract.objects.select_related("program").get(code="tongliao-2025")
    scenario = Scenario(plan=raised(plan_of(contract).rules), target_surplus_rate=Decimal("0.03"))
    cpu0 = cpu()
    floor, n = io_floor(contract)
    cpu_floor = cpu() - cpu0
    after_floor = rss_mib()
    cpu0 = cpu()
    floor2 = own_query_floor(contract, scenario)
    cpu_floor2 = cpu() - cpu0
    cpu0 = cpu()
    start = time.perf_counter()
    if profile:
        import cProfile

        prof = cProfile.Profile()
        result = prof.runcall(simulate, contract, scenario, chunk_size=CHUNK)
        prof.dump_stats(profile)
    else:
        result = simulate(contract, scenario, chunk_size=CHUNK)
    elapsed = time.perf_counter() - start
    cpu_simulation = cpu() - cpu0
    assert result.records == n, (result.records, n)
    return {"records": n, "floor": floor, "simulation": elapsed, "rss_floor": after_floor, "rss": rss_mib(),
            "cpu_floor": cpu_floor, "floor2": floor2, "cpu_floor2": cpu_floor2, "cpu_simulation": cpu_simulation, "load": os.getloadavg()[0],
            "actual": str(result.actual.payable), "scenario": str(result.scenario.payable),
            "suggested": str(result.suggested_per_capita), "at_cap": result.scenario.persons_at_cap}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=None, help="default: records / 10")
    parser.add_argument("--database", default=DEFAULT_DB, help="throw-away database, dropped first and at the end")
    parser.add_argument("--keep", action="store_true", help="keep the database (to measure again with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="measure on a database kept by --keep")
    parser.add_argument("--profile", help="write a cProfile of the simulation to this file")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.measure:
        setup_django()
        print("RESULT " + json.dumps(measure(args.profile)), flush=True)
        return
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must point to a PostgreSQL server")
    persons = args.persons or max(args.records // 10, 10)
    if args.reuse:
        db_url = urlunparse(urlparse(url)._replace(path=f"/{args.database}"))
    else:
        db_url = recreate_database(url, args.database)
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("REDIS_URL", None)
    try:
        if not args.reuse:
            os.environ.update(DATABASE_URL=db_url)
            os.environ.pop("REDIS_URL", None)
            setup_django()
            prepare(args.records, persons)
            from django.db import connections

            connections.close_all()
        child = [sys.executable, __file__, "--measure"] + (["--profile", args.profile] if args.profile else [])
        proc = subprocess.run(child, env=env, cwd=ROOT, capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            sys.exit(f"measurement failed:\n{proc.stdout}\n{proc.stderr}")
        r = json.loads(line[len("RESULT "):])
    finally:
        if not args.keep and not args.reuse:
            drop_database(url, args.database)
    n = r["records"]
    print(f"(a) I/O floor (the same query and chunks, no engine): {r['floor']:7.2f} s = {n / r['floor']:,.0f} records/s"
          f" (CPU of this process {r['cpu_floor']:.2f} s)")
    print(f"(b) simulate (two plans, all breakdowns):            {r['simulation']:7.2f} s = {n / r['simulation']:,.0f} records/s"
          f" (CPU of this process {r['cpu_simulation']:.2f} s)")
    if r["floor2"] is not None:
        print(f"(a2) the simulation's own query, no engine:           {r['floor2']:7.2f} s = {n / r['floor2']:,.0f} records/s"
              f" (CPU of this process {r['cpu_floor2']:.2f} s)")
    ratio = r["simulation"] / r["floor"]
    print(f"ratio b / a: {ratio:.2f}x, CPU {r['cpu_simulation'] / r['cpu_floor']:.2f}x (target <= 2x: "
          f"{'met' if ratio <= 2 else 'NOT met'}); < 60 s: {'met' if r['simulation'] < 60 else 'NOT met'}")
    if r["floor2"] is not None:
        print(f"ratio b / a2: {r['simulation'] / r['floor2']:.2f}x, CPU {r['cpu_simulation'] / r['cpu_floor2']:.2f}x")
    print(f"peak memory (ru_maxrss): {r['rss_floor']:.0f} MiB after the floor, {r['rss']:.0f} MiB after the simulation "
          f"(target < 512 MiB: {'met' if r['rss'] < 512 else 'NOT met'})")
    print(f"machine load (1-minute average) at the end: {r['load']:.1f} on {os.cpu_count()} CPUs")
    print(f"payable actual {r['actual']}, scenario {r['scenario']}; persons at a cap {r['at_cap']}; "
          f"suggested per-capita premium {r['suggested']}")


if __name__ == "__main__":
    main()
