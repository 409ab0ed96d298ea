"""`python -m claims.engine --program CODE INPUT.json`: trial calculation on the seed plans,
for use without Django (the management command passes the plans stored in the database)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from programs.benefit_rules.seed_plans import seed_plans

from .cli import run_trial
from .io import TrialInputError


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status 0 with the output JSON on stdout, 2 with a message on stderr."""
    parser = argparse.ArgumentParser(description="Benefit trial calculation (试算) on the seed plans")
    parser.add_argument("--program", required=True)
    parser.add_argument("input", help="INPUT.json, or - for standard input")
    parser.add_argument("--no-explain", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.input == "-":
            text = sys.stdin.buffer.read()
        else:
            with open(args.input, "rb") as handle:
                text = handle.read()
        output = run_trial(args.program, text, seed_plans(), explain=not args.no_explain)
    except (TrialInputError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(output + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
