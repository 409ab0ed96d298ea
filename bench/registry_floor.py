"""What any first import of the 2.2 M list must at least cost on this schema (issue 6).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_reg .venv/bin/python bench/registry_floor.py \\
        var/bench/tongliao.csv

Empties the registry tables of the database in DATABASE_URL (a bench database!), then measures
in the same run, on the same rows:

1. the issue's baseline: a bare COPY of the GBK file into an UNLOGGED table of text columns;
2. the product's first import of the file (validation with the rejected-rows report, then the
   application), as `bench/registry_import.py` runs it;
3. the *durable write floor*: the rows that import wrote — already checked, already in the two
   tables' final shape, as PostgreSQL's own binary COPY files prepared before the clock starts —
   written again into the emptied registry in one transaction by the product's bulk path
   (`bulk.IndexRebuild`: indexes, keys and foreign keys dropped, the rows COPYed in, every
   index and key rebuilt, the kept keys checked), and committed.

(3) reads no CSV, decodes nothing, checks nothing and joins nothing: it is what writing the
registry's 2.2 M persons and enrollments durably, with the indexes the window's look-ups need
and the keys that keep them consistent, costs on this machine whatever the import does before
it. Its ratio to (1) is the least ratio any design of the import can reach with this schema and
these server settings. A CHECKPOINT precedes (2) and (3), so neither pays for the other's writes.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")

PERSON_COLUMNS = ("id", "certno", "psn_no", "name", "sex", "birth_date", "phone")


def dump(cur, table: str, columns: tuple[str, ...], path: str) -> None:
    with open(path, "wb") as fh, cur.cursor.copy(
        f"COPY (SELECT {', '.join(columns)} FROM {table} ORDER BY id) TO STDOUT (FORMAT binary)"
    ) as copy:
        for chunk in copy:
            fh.write(chunk)


def restore(cur, table: str, columns: tuple[str, ...], path: str) -> float:
    t0 = time.perf_counter()
    with open(path, "rb") as fh, cur.cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT binary)"
    ) as copy:
        while chunk := fh.read(1 << 20):
            copy.write(chunk)
    return time.perf_counter() - t0


def durable_write_floor(workdir: str) -> float:
    from django.db import connection, transaction
    from registry_import import empty_registry

    from programs.registry import bulk

    e_columns = ("id", *bulk.ENROLLMENT_COLUMNS)
    p_file, e_file = os.path.join(workdir, "persons.bin"), os.path.join(workdir, "enrollments.bin")
    with connection.cursor() as cur:
        dump(cur, bulk.P, PERSON_COLUMNS, p_file)
        dump(cur, bulk.E, e_columns, e_file)
        empty_registry(cur)
        cur.execute("CHECKPOINT")  # the import's dirty pages written out first, not inside the clock
    steps = {}
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")  # as the import's application
        with bulk.IndexRebuild(cur, (bulk.P, bulk.E), lambda *a, **k: None):
            steps["persons"] = restore(cur, bulk.P, PERSON_COLUMNS, p_file)
            steps["enrollments"] = restore(cur, bulk.E, e_columns, e_file)
            t_rows = time.perf_counter()
        steps["indexes and keys"] = time.perf_counter() - t_rows
    total = time.perf_counter() - t0
    sizes = {path: os.path.getsize(path) for path in (p_file, e_file)}
    print(f"durable write floor: {total:.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
          + f"); binary COPY files {sum(sizes.values()) / 2**20:.0f} MiB")
    return total


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first")
    args = ap.parse_args()

    import datetime as dt

    import django

    django.setup()
    from django.db import connection
    from registry_import import bare_copy, run_import, start_bench, uptime

    user = start_bench()
    copy_s = bare_copy(args.first)
    print(f"bare COPY of {args.first}: {copy_s:.1f} s")
    with connection.cursor() as cur:
        cur.execute("CHECKPOINT")  # as before the floor
    first_s, _batch = run_import(user, args.first, dt.date(2025, 1, 1), "first import")
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as workdir:
        floor_s = durable_write_floor(workdir)
    copy_again = bare_copy(args.first)
    print(f"bare COPY again: {copy_again:.1f} s")
    print("load after:", uptime())
    print()
    slow, fast = max(copy_s, copy_again), min(copy_s, copy_again)
    print(f"bare COPY {fast:.1f} / {slow:.1f} s (before / after, sorted); 6x = {6 * fast:.1f} / {6 * slow:.1f} s")
    print(f"durable write floor {floor_s:.1f} s = {floor_s / fast:.2f}x / {floor_s / slow:.2f}x bare COPY")
    # The valid rows are written only after the user has seen the rejected ones, so an import
    # is at least one reading of the file (no cheaper than the bare COPY) plus the floor.
    print(f"least ratio of any import that validates before it writes: (COPY + floor) / COPY >= "
          f"{(slow + floor_s) / slow:.2f}x")
    print(f"first import {first_s:.1f} s = {first_s / copy_s:.2f}x the first bare COPY = {first_s / floor_s:.2f}x the floor")

if __name__ == "__main__":
    main()
