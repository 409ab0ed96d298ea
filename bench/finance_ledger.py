"""Finance ledger: booking receipts through the service, and proving the balances.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_finance .venv/bin/python bench/finance_ledger.py
    ... --entries 5000      # a quicker look

Creates (drops first) a database `wt_finance_bench` on the server of DATABASE_URL, migrates it,
creates --installments premium items and books --entries receipts, then measures in one run:

- `installment_record_receipt` (row lock, entry insert, balance update, one transaction each)
  against the floor of inserting the same entries with `bulk_create` (no lock, no balance);
- `finance_check` (every balance against the sum of its entries, reversals, triggers) against
  the floor of one `SELECT installment_id, SUM(amount) … GROUP BY` over the same table.
"""

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BENCH_DB = "wt_finance_bench"


def recreate_database(url: str) -> str:
    import psycopg

    parsed = urlparse(url)
    with psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")
    return urlunparse(parsed._replace(path=f"/{BENCH_DB}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--installments", type=int, default=200)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = recreate_database(os.environ["DATABASE_URL"])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from finance import services
    from finance.checks import balance_mismatches, missing_triggers, reversal_mismatches
    from finance.models import LedgerEntry, PremiumInstallment, PremiumSchedule
    from insurance_admin.accounts.models import User
    from programs.models import Contract

    user = User.objects.create(username="bench")
    contract = Contract.objects.get(code="tongliao-2025")
    schedule = PremiumSchedule.objects.create(contract=contract, per_capita={}, headcounts={}, total=Decimal("0"), created_by=user)
    amount = Decimal("1000000.00")
    items = PremiumInstallment.objects.bulk_create(
        PremiumInstallment(schedule=schedule, contract=contract, seq=i + 1, amount=amount, description="bench")
        for i in range(args.installments)
    )
    day = dt.date(2025, 6, 1)
    per_entry = Decimal("10.00")

    start = time.perf_counter()
    LedgerEntry.objects.bulk_create(
        LedgerEntry(contract=contract, book="premium", kind="receipt", amount=per_entry, booked_on=day, installment=items[i % len(items)],
                    created_by=user)
        for i in range(args.entries)
    )
    floor_booking = time.perf_counter() - start
    # the floor's rows would fail the check (no balances): give them their balances once
    for item in items:
        PremiumInstallment.objects.filter(pk=item.pk).update(received=LedgerEntry.objects.filter(installment=item).count() * per_entry)

    start = time.perf_counter()
    for i in range(args.entries):
        services.installment_record_receipt(installment=items[i % len(items)], amount=per_entry, received_on=day, user=user)
    service_booking = time.perf_counter() - start

    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT installment_id, SUM(amount) FROM finance_ledgerentry GROUP BY installment_id")
        cursor.fetchall()
    floor_check = time.perf_counter() - start
    start = time.perf_counter()
    problems = balance_mismatches() + reversal_mismatches()
    missing = missing_triggers()
    check = time.perf_counter() - start

    total = LedgerEntry.objects.count()
    print(f"receipts through installment_record_receipt: {args.entries} in {service_booking:.2f} s "
          f"({args.entries / service_booking:,.0f} entries/s)")
    print(f"floor, bulk_create of the same entries:      {args.entries} in {floor_booking:.2f} s "
          f"({args.entries / floor_booking:,.0f} entries/s); ratio service / floor {service_booking / floor_booking:.1f}x")
    print(f"finance_check over {total} entries, {args.installments} balances: {check * 1000:.0f} ms "
          f"(problems {len(problems)}, missing triggers {missing})")
    print(f"floor, one GROUP BY sum:                       {floor_check * 1000:.0f} ms; ratio {check / floor_check:.1f}x")


if __name__ == "__main__":
    main()
