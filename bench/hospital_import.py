"""A hospital's monthly file of 100,000 instant settlements through the batch import.

    .venv/bin/python bench/hospital_import.py                 # SQLite in a temporary directory
    .venv/bin/python bench/hospital_import.py --rows 20000    # a quicker look
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/hospital_import.py
        # PostgreSQL: (re)creates a database `wt_hospital_bench` on that server

Prepares a database with the Tongliao seed contract, --rows enrolled persons and a UTF-8 CSV
file of --rows settlements (one per person, national column names), then measures, each in a
fresh process so that peak memory (ru_maxrss) is the measurement's own:

- baseline: a bare `csv.DictReader` pass over the same file (no Django);
- idle: Django set up, nothing done (the floor of any Django process);
- import: `batch_upload` → `batch_validate` → `batch_confirm` → `batch_apply` (the task
  functions: two streaming passes, one transaction, bulk inserts, the engine's recomputation).

Prints time and peak memory of each and the ratios import / baseline.
"""

import argparse
import csv
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "wt_hospital_bench"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def django_setup(database_url: str, media: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")
    import django

    django.setup()


def prepare(database_url: str, media: str, rows: int, path: str) -> None:
    django_setup(database_url, media)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from programs.models import Area, Contract, Enrollment, InsuredPerson
    from tests.claims.hospital_files import TONGLIAO_COLUMNS, tongliao_row
    from tests.factories import certno_for

    contract, area = Contract.objects.get(code="tongliao-2025"), Area.objects.get(code="150502")
    birth = [dt.date(1950, 1, 1) + dt.timedelta(days=i) for i in range(rows // 900 + 1)]
    InsuredPerson.objects.bulk_create(
        [InsuredPerson(certno=certno_for("150502", birth[i // 900], i % 900), psn_no=f"B{i:09d}", name="测试",
                       sex="1" if (i % 900) % 2 else "2", birth_date=birth[i // 900]) for i in range(rows)],
        batch_size=5000,
    )
    ids = InsuredPerson.objects.filter(psn_no__startswith="B").values_list("pk", flat=True)
    Enrollment.objects.bulk_create(
        [Enrollment(person_id=pk, contract=contract, area=area, enrolled_from=contract.period_start) for pk in ids.iterator()],
        batch_size=5000,
    )
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TONGLIAO_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for i, psn_no, certno in InsuredPerson.objects.filter(psn_no__startswith="B").order_by("psn_no").values_list(
            "pk", "psn_no", "certno"
        ).iterator():
            person = type("P", (), {"psn_no": psn_no, "certno": certno, "name": "测试"})
            inscp = f"{30000 + (i * 37) % 60000}.00"
            writer.writerow(tongliao_row(f"B{i:09d}", person, inscp=inscp, hifmi="0.00"))


def child_baseline(path: str) -> dict:
    start = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        n = sum(1 for _ in csv.DictReader(fh))
    return {"seconds": time.perf_counter() - start, "rows": n, "peak_mib": peak_mib()}


def child_idle(database_url: str, media: str) -> dict:
    django_setup(database_url, media)
    from programs.models import Contract

    Contract.objects.count()
    return {"seconds": 0.0, "peak_mib": peak_mib()}


def child_import(database_url: str, media: str, path: str) -> dict:
    django_setup(database_url, media)
    from django.core.files import File

    from claims import imports
    from programs.models import Contract
    from tests.factories import User

    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser("bench", password="x")
    contract = Contract.objects.get(code="tongliao-2025")
    start = time.perf_counter()
    with open(path, "rb") as fh:
        batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1), uploaded_file=File(fh, name="bench.csv"),
                                     user=user)
    t_upload = time.perf_counter()
    batch = imports.batch_validate(batch.pk)
    t_validate = time.perf_counter()
    assert batch.status == "validated", imports.rendered_errors(batch.errors)[:5]
    imports.batch_confirm(batch=batch, user=user)
    batch = imports.batch_apply(batch.pk)
    t_apply = time.perf_counter()
    assert batch.status == "done", imports.rendered_errors(batch.errors)[:5]
    return {"seconds": t_apply - start, "upload": t_upload - start, "validate": t_validate - t_upload,
            "apply": t_apply - t_validate, "rows": batch.created_count, "engine_total": str(batch.engine_total),
            "peak_mib": peak_mib()}


def recreate_pg(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return urlunparse(parsed._replace(path=f"/{BENCH_DB}"))


def run_child(*args) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child", nargs="+")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {"baseline": child_baseline, "idle": child_idle, "import": child_import, "prepare": None}[kind]
        if kind == "prepare":
            prepare(rest[0], rest[1], int(rest[2]), rest[3])
            print(json.dumps({}))
        else:
            print(json.dumps(result(*rest)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            database_url, vendor = recreate_pg(url), "PostgreSQL"
        else:
            database_url, vendor = f"sqlite:///{tmp}/bench.sqlite3", "SQLite"
        media, path = f"{tmp}/media", f"{tmp}/settlements.csv"
        t = time.perf_counter()
        run_child("prepare", database_url, media, str(args.rows), path)
        print(f"{vendor}: prepared {args.rows:,} persons and a {os.path.getsize(path) / 2**20:.1f} MiB CSV "
              f"in {time.perf_counter() - t:.1f} s")
        baseline = run_child("baseline", path)
        idle = run_child("idle", database_url, media)
        imported = run_child("import", database_url, media, path)
        assert imported["rows"] == baseline["rows"] == args.rows
        print(f"{'measurement':<44}{'time':>10}{'peak RSS':>12}")
        print(f"{'baseline: bare csv.DictReader pass':<44}{baseline['seconds']:>9.2f}s{baseline['peak_mib']:>9.0f} MiB")
        print(f"{'Django set up, idle':<44}{'':>10}{idle['peak_mib']:>9.0f} MiB")
        print(f"{'batch import (validate + apply + recompute)':<44}{imported['seconds']:>9.2f}s{imported['peak_mib']:>9.0f} MiB")
        print(f"  upload {imported['upload']:.2f} s, validate {imported['validate']:.2f} s, "
              f"apply + recompute {imported['apply']:.2f} s; engine total {imported['engine_total']}")
        print(f"ratio import / baseline: time {imported['seconds'] / baseline['seconds']:.1f}×, "
              f"peak memory {imported['peak_mib'] / baseline['peak_mib']:.1f}× "
              f"(above idle Django: {imported['peak_mib'] - idle['peak_mib']:.0f} MiB)")
        if vendor == "PostgreSQL":
            import psycopg

            with psycopg.connect(urlunparse(urlparse(url)._replace(path="/postgres")), autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
