"""`manage.py trial_calc` end to end on 100,000 records (issue: < 5 s including JSON I/O).

    .venv/bin/python bench/trial_calc_command.py [--records 100000] [--program tongliao-2025]

Writes the input with bench/engine_throughput.py's generator (the program's share of its mix,
scaled to --records), migrates a throw-away SQLite installation, then times in the same run,
each as a fresh process (median of 3):

- the I/O floor: a process that reads the same input, parses it (numbers as Decimal) and
  writes it back out as JSON, doing no calculation;
- `python manage.py trial_calc --program CODE INPUT.json > output.json` (Django start-up,
  plan load, parse, evaluate with explanations, serialise).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

FLOOR = """
import json, sys
from decimal import Decimal
data = json.loads(open(sys.argv[1], "rb").read(), parse_float=Decimal, parse_int=Decimal)
sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str))
"""


def timed(cmd: list[str], env: dict, out: Path) -> float:
    start = time.perf_counter()
    with out.open("wb") as sink:
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=sink, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--program", default="tongliao-2025")
    args = parser.parse_args()
    import engine_throughput

    document = engine_throughput.generate(args.records * 4)[args.program]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        source = tmp / "input.json"
        source.write_text(json.dumps(document, default=str), encoding="utf-8")
        env = {**os.environ, "INSURANCE_ADMIN_VAR_DIR": str(tmp), "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.base"}
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        floor = statistics.median(timed([sys.executable, "-c", FLOOR, str(source)], env, tmp / "floor.json") for _ in range(3))
        command = [sys.executable, "manage.py", "trial_calc", "--program", args.program, str(source)]
        full = statistics.median(timed(command, env, tmp / "out.json") for _ in range(3))
        results = json.loads((tmp / "out.json").read_bytes())["results"]
        assert len(results) == len(document["settlements"])
        print(f"{args.program}: {len(results):,} records, input {source.stat().st_size / 1e6:.1f} MB, "
              f"output {(tmp / 'out.json').stat().st_size / 1e6:.1f} MB")
        print(f"I/O floor (parse + re-serialise, own process): {floor:.2f} s")
        print(f"manage.py trial_calc with explanations:        {full:.2f} s  (target < 5 s: {'met' if full < 5 else 'NOT met'})")
        print(f"ratio trial_calc / floor: {full / floor:.2f}x")


if __name__ == "__main__":
    main()
