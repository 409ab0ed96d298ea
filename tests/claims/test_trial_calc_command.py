"""`manage.py trial_calc` against the plans stored in the database (DOMAIN.md §4.5)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from claims.models import Accumulator, Calculation

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

WORKED = {
    "persons": [{"psn_no": "P1", "category": "ordinary", "employment": "active", "health": "healthy",
                 "continuous_no_claim_3y": False, "student": False}],
    "settlements": [
        {"setl_id": "S1", "psn_no": "P1", "enddate": "2025-03-02", "claim_kind": "inpatient", "place": "in_region",
         "hosp_lv": "2", "inscp_scp_amt": "52000.00", "hifp_pay": "30000.00"},
        {"setl_id": "S2", "psn_no": "P1", "enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region",
         "hosp_lv": "2", "inscp_scp_amt": 70000, "hifp_pay": 30000.0},
    ],
}


def _run(tmp_path, program, document, capsys):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document, encoding="utf-8")
    call_command("trial_calc", "--program", program, str(path))
    return json.loads(capsys.readouterr().out)


def test_worked_examples_from_the_stored_tongliao_plan(tmp_path, capsys):
    out = _run(tmp_path, "tongliao-2025", WORKED, capsys)
    assert out["program"] == "tongliao-2025"
    assert [(r["setl_id"], r["payable"], r["by_liability"]) for r in out["results"]] == [
        ("S1", "4800.00", {"critical_illness": "4800.00"}),
        ("S2", "28400.00", {"critical_illness": "28400.00"}),
    ]
    bands = [s for s in out["results"][1]["explanation"] if s["step"] == "band"]
    assert [(b["from"], b["to"], b["rate"], b["amount"]) for b in bands] == [
        ("22000.00", "30000.00", "0.60", "4800.00"),
        ("30000.00", "50000.00", "0.70", "14000.00"),
        ("50000.00", "62000.00", "0.80", "9600.00"),
    ]
    # a dry run: nothing persisted
    assert not Accumulator.objects.exists() and not Calculation.objects.exists()


def test_zhenping_example(tmp_path, capsys):
    doc = {"persons": [{"psn_no": "Z1"}], "settlements": [
        {"setl_id": "Z-1", "psn_no": "Z1", "enddate": "2026-04-01", "claim_kind": "inpatient", "over_cap_amt": "10000"}]}
    assert _run(tmp_path, "zhenping-2026", doc, capsys)["results"][0]["payable"] == "9000.00"


def test_an_edited_plan_is_used_at_once(tmp_path, capsys):
    from programs.models import BenefitPlan
    from programs.services import benefit_plan_update

    bp = BenefitPlan.objects.get(contract__code="zhenping-2026")
    rules = json.loads(json.dumps(bp.rules))
    rules["liabilities"][0]["schedule"][0]["bands"][0]["rate"] = "0.80"
    benefit_plan_update(benefit_plan=bp, rules=rules)
    doc = {"persons": [{"psn_no": "Z1"}], "settlements": [
        {"setl_id": "Z-1", "psn_no": "Z1", "enddate": "2026-04-01", "claim_kind": "inpatient", "over_cap_amt": "10000"}]}
    assert _run(tmp_path, "zhenping-2026", doc, capsys)["results"][0]["payable"] == "8000.00"


@pytest.mark.parametrize(
    ("program", "mutate", "message"),
    [
        ("nowhere-2025", lambda d: d, 'unknown program "nowhere-2025"'),
        ("tongliao-2025", lambda d: d["settlements"][1].update(inscp_scp_amt="12,3a"),
         'settlement S2 (index 1): field inscp_scp_amt: malformed amount "12,3a"'),
        ("tongliao-2025", lambda d: d["settlements"][0].update(place="mars"), "settlement S1 (index 0): field place"),
        ("tongliao-2025", lambda d: d["settlements"][0].pop("psn_no"), "settlement S1 (index 0): missing field psn_no"),
    ],
)
def test_bad_input_names_the_record_and_field(tmp_path, program, mutate, message):
    doc = json.loads(json.dumps(WORKED))
    mutate(doc)
    path = tmp_path / "in.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("trial_calc", "--program", program, str(path))
    assert message in str(exc.value)


def test_the_command_exits_non_zero_on_bad_input(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"persons": [], "settlements": [{"setl_id": "S9"}]}', encoding="utf-8")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.test", "INSURANCE_ADMIN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # a fresh SQLite installation of its own under tmp_path

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)

    assert manage("migrate", "-v0").returncode == 0
    good = tmp_path / "good.json"
    good.write_text(json.dumps(WORKED), encoding="utf-8")
    ok = manage("trial_calc", "--program", "tongliao-2025", str(good))
    assert ok.returncode == 0 and json.loads(ok.stdout)["results"][0]["payable"] == "4800.00"
    bad = manage("trial_calc", "--program", "tongliao-2025", str(path))
    assert bad.returncode != 0 and bad.stdout == ""
    assert "settlement S9 (index 0): missing field" in bad.stderr
