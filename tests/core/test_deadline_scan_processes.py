"""Concurrent daily scans in separate processes on PostgreSQL (issue 20 item 2): a second beat
firing and a redelivered message on another worker start the same scan at the same moment,
each process with its own connection. Every reminder and escalation exists once per
recipient, and each e-mail leaves once (the console backend of the embedded default prints
every message the processes send). Runs only on PostgreSQL (SQLite serialises the writers)."""

import datetime as dt
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection

from claims import registration
from insurance_admin.core.models import Notification
from programs.models import Contract
from tests.conftest import require_or_skip
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 4

SCAN = """
import datetime as dt, json, os, sys, time
import django
django.setup()
from insurance_admin.core.deadlines import deadlines_scan
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.0005)
r = deadlines_scan(today=dt.date.fromisoformat(sys.argv[2]))
print("RESULT " + json.dumps({"created": r.notifications_created, "emailed": r.emails_sent}), flush=True)
"""


def run_scans(day: str) -> tuple[list[dict], list[str]]:
    db = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.base",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
           "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend", "DEADLINE_ESCALATE_AFTER_DAYS": "3"}
    if db.get("PASSWORD"):
        env["DATABASE_URL"] = env["DATABASE_URL"].replace(f"{db['USER']}@", f"{db['USER']}:{db['PASSWORD']}@")
    start = time.time() + 6  # every process imported Django and waits for the same instant
    procs = [subprocess.Popen([sys.executable, "-c", SCAN, str(start), day], cwd=ROOT, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(PROCESSES)]
    results, recipients = [], []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-3000:]
        results += [json.loads(line[7:]) for line in out.splitlines() if line.startswith("RESULT ")]
        recipients += [line[4:].strip() for line in out.splitlines() if line.startswith("To: ")]
    return results, recipients


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_in_separate_processes_send_each_reminder_and_escalation_once(seeded):
    require_or_skip(connection.vendor == "postgresql", "PostgreSQL", "REQUIRE_SERVICES")
    cw = UserFactory(username="cw_p1", role="caseworker", area_codes=["150502"], email="p1@example.cn")
    UserFactory(username="cw_p2", role="caseworker", area_codes=["150500"], email="p2@example.cn")
    UserFactory(username="sup_p", role="supervisor", area_codes=["150500"], email="sup@example.cn")
    UserFactory(username="sup_other", role="supervisor", area_codes=["411324"], email="other@example.cn")
    contract = Contract.objects.get(code="tongliao-2025")
    docs = registration.requirements_for(program=contract.program, claim_kind="inpatient", place="in_region")
    for n in range(6):
        person = EnrollmentFactory(person=PersonFactory(name=f"并发{n}", area_code="150502")).person
        registration.claim_register(
            user=cw, person=person, contract=contract, claim_kind="inpatient", place="in_region", fixmedins_code="H1",
            fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
            records=[{"setl_id": f"M-P{n}", "medfee_sumamt": Decimal("100.00"), "inscp_scp_amt": Decimal("100.00"),
                      "hifp_pay": Decimal("0")}],
            documents=docs, received_on=dt.date(2025, 9, 26))  # each due 2025-10-16

    results, recipients = run_scans("2025-10-14")  # due soon: both caseworkers, 6 claims each
    assert sum(r["created"] for r in results) == 12 and sum(r["emailed"] for r in results) == 12
    assert sorted(recipients) == ["p1@example.cn"] * 6 + ["p2@example.cn"] * 6
    results, recipients = run_scans("2025-10-20")  # overdue to both, escalated to the area's supervisor
    assert sum(r["created"] for r in results) == 18 and sum(r["emailed"] for r in results) == 18
    assert sorted(recipients) == ["p1@example.cn"] * 6 + ["p2@example.cn"] * 6 + ["sup@example.cn"] * 6
    stages = sorted(Notification.objects.values_list("recipient__username", "stage"))
    assert stages == sorted([("cw_p1", "due_soon")] * 6 + [("cw_p2", "due_soon")] * 6 + [("cw_p1", "overdue")] * 6
                            + [("cw_p2", "overdue")] * 6 + [("sup_p", "escalated")] * 6)
    assert run_scans("2025-10-20")[1] == []  # a third firing sends nothing
