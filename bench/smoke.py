"""Every benchmark script at a toy size, so that a script which no longer runs fails the build.

    .venv/bin/python bench/smoke.py                      # SQLite scripts only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/smoke.py
        # and the PostgreSQL ones, each in its own throw-away database on that server

Figures are printed by the scripts but never asserted: this checks that each script still
starts, runs the product's code paths it measures and ends with exit code 0. `make bench-smoke`
runs it; `.ci/run` calls that on PostgreSQL. A new script under bench/ must be listed here
(the runner refuses to pass while one is missing).
"""

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
SMOKE_DB = "bench_smoke_registry"

# script -> arguments at toy size; "{tmp}" is a scratch directory, "{csv1}"/"{csv2}" the lists
# bench/registry_generate.py writes first.
SQLITE = {
    "engine_throughput.py": ["--records", "2000", "--repeat", "1"],
    "trial_calc_command.py": ["--records", "2000"],
    "hospital_import.py": ["--rows", "300"],
    "slip_render.py": ["--slips", "2", "--repeat", "1"],
}
POSTGRES = {
    "finance_ledger.py": ["--entries", "200", "--installments", "10"],
    "recompute_pg.py": ["--records", "2000", "--persons", "200"],
    "simulation.py": ["--records", "2000", "--persons", "200", "--database", "bench_smoke_simulation"],
    "registry_import.py": ["{csv1}", "{csv2}", "--baseline-rows", "200", "--skip-lookups"],
    "registry_floor.py": ["{csv1}"],
    "supervision_dashboard.py": ["--claims", "2000", "--persons", "500", "--repeat", "3", "--live-repeat", "1"],
    "deadline_scan.py": ["--claims", "2000", "--persons", "2000"],
    "carry_forward.py": ["--persons", "300", "--chunk", "100", "--database", "bench_smoke_carry_forward"],
}
HELPERS = {"registry_generate.py", "smoke.py"}  # run as a step of the registry scripts / this


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def run(script: str, args: list[str], env: dict) -> tuple[str, bool, float, str]:
    start = time.perf_counter()
    proc = subprocess.run([PY, str(ROOT / "bench" / script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    elapsed = time.perf_counter() - start
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-12:])
    return script, proc.returncode == 0, elapsed, tail


def prepare_registry_database(url: str, tmp: str, env: dict) -> dict:
    """A migrated database of its own for the registry scripts (they empty the registry tables of
    the database they are given), and two small generated lists."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {SMOKE_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {SMOKE_DB}")
    db_env = {**env, "DATABASE_URL": with_database(url, SMOKE_DB)}
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=db_env, check=True)
    gen = str(ROOT / "bench" / "registry_generate.py")
    subprocess.run([PY, gen, f"{tmp}/a.csv", "--rows", "2000"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([PY, gen, f"{tmp}/b.csv", "--rows", "2000", "--changes", "0.01", "--exits", "0.005"],
                   cwd=ROOT, check=True, capture_output=True)
    return db_env


def main() -> int:
    listed = set(SQLITE) | set(POSTGRES) | HELPERS
    unlisted = sorted(p.name for p in (ROOT / "bench").glob("*.py") if p.name not in listed)
    if unlisted:
        print(f"bench scripts not in bench/smoke.py: {', '.join(unlisted)}")
        return 1
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    base_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    jobs = [(script, args, base_env) for script, args in SQLITE.items()]
    with tempfile.TemporaryDirectory() as tmp:
        if postgres:
            server = with_database(url, "postgres")
            db_env = prepare_registry_database(server, tmp, base_env)
            fill = {"{csv1}": f"{tmp}/a.csv", "{csv2}": f"{tmp}/b.csv"}
            for script, args in POSTGRES.items():
                env = db_env if script.startswith("registry_") else {**base_env, "DATABASE_URL": server}
                jobs.append((script, [fill.get(a, a) for a in args], env))
        else:
            print(f"DATABASE_URL is not PostgreSQL: skipping {', '.join(POSTGRES)}")
        # The registry scripts share one database: run them one after the other in one lane.
        registry = [j for j in jobs if j[0].startswith("registry_")]
        others = [j for j in jobs if not j[0].startswith("registry_")]
        with ThreadPoolExecutor(max_workers=2) as pool:
            lane = pool.submit(lambda: [run(*j) for j in registry])
            results = list(pool.map(lambda j: run(*j), others)) + lane.result()
        if postgres:
            import psycopg

            with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {SMOKE_DB} WITH (FORCE)")
    failed = [r for r in results if not r[1]]
    for script, ok, elapsed, tail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {script:28s} {elapsed:6.1f} s")
        if not ok:
            print("     " + tail.replace("\n", "\n     "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
