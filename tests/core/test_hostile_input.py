"""Hostile input on the forms the caseworker, reviewer and finance roles use: amounts beyond the
column (1e30, 15 digits), NaN/Infinity, `null`, dates like 9999-12-31 or 0001-01-01, 50,000
characters, NUL bytes, deeply nested JSON. Never a 500 and never a stuck record: the form comes
back (or the page redirects with a message) with a Chinese message that names the field, and
nothing is written."""

import datetime as dt
import io
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from claims import imports
from claims.models import (
    Claim,
    ClaimDocument,
    ClaimStatusChange,
    Deduction,
    HospitalBatch,
    Recovery,
    Settlement,
)
from claims.registration import RegistrationRefused, requirements_for
from finance import services as finance_services
from finance.models import GuaranteeDeposit, LedgerEntry, Penalty, PremiumInstallment, RevolvingFund
from programs.models import Contract
from tests.claims.hospital_files import csv_bytes, media_root, tongliao_row, upload  # noqa: F401 (autouse)
from tests.claims.test_claim_registration import _register
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

HUGE = "x" * 50_000
NUL = "a\x00b"
MONEY_VALUES = ["1e30", "123456789012345", "NaN", "Infinity", "-Infinity", "null", NUL, HUGE]
DATE_VALUES = ["9999-12-31", "0001-01-01", "NaN", NUL, HUGE]
TEXT_VALUES = [NUL, HUGE]
CJK = re.compile(r"[\u4e00-\u9fff]")


def ids(value: str) -> str:
    return {HUGE: "50k-chars", NUL: "NUL-byte"}.get(value, value)


def assert_named(errors: list[str], label: str) -> None:
    """At least one message, each in Chinese and starting with the field's (Chinese) label."""
    assert CJK.search(label), label
    assert errors, f"no error on {label}"
    for message in errors:
        assert message.startswith(f"{label}："), message
        assert CJK.search(message[len(label) + 1:]), message


# --------------------------------------------------------------------------- registration


def _registration_data(contract, **overrides):
    docs = requirements_for(program=contract.program, claim_kind="inpatient", place="in_region")
    data = {
        "c-claim_kind": "inpatient", "c-place": "in_region", "c-fixmedins_code": "H150502001", "c-fixmedins_name": "通辽市医院",
        "c-hosp_lv": "3", "c-begndate": "2025-02-20", "c-enddate": "2025-03-02", "c-received_on": "2025-03-05",
        "c-payee_name": "", "c-bank_name": "中国农业银行通辽分行", "c-bank_account": "6228480000000000000", "c-notes": "",
        "c-documents": [str(r.pk) for r in docs],
        "r-TOTAL_FORMS": "1", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20",
        "r-0-setl_id": "M-100", "r-0-medfee_sumamt": "52000.00", "r-0-inscp_scp_amt": "52000.00", "r-0-hifp_pay": "30000.00",
    }
    data.update(overrides)
    return data


def _claim_counts():
    return Claim.objects.count(), Settlement.objects.count(), ClaimDocument.objects.count(), ClaimStatusChange.objects.count()


REGISTRATION_CASES = (
    [(f, v) for f in ("r-0-medfee_sumamt", "r-0-hifp_pay", "r-0-inscp_scp_amt") for v in MONEY_VALUES]
    + [(f, v) for f in ("c-enddate", "c-begndate", "c-received_on") for v in DATE_VALUES]
    + [(f, v) for f in ("c-fixmedins_name", "c-fixmedins_code", "c-payee_name", "c-bank_name", "c-bank_account",
                        "c-notes", "r-0-setl_id", "r-0-mdtrt_id") for v in TEXT_VALUES]
)


@pytest.mark.parametrize(("field", "value"), REGISTRATION_CASES, ids=[f"{f}={ids(v)}" for f, v in REGISTRATION_CASES])
def test_registration_refuses_hostile_values_on_the_named_field(client, caseworker, horqin_person, field, value):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    before = _claim_counts()
    response = client.post(reverse("claim_register", args=[horqin_person.pk, contract.code]),
                           _registration_data(contract, **{field: value}))
    assert response.status_code == 200
    prefix, name = field.split("-", 1) if field.startswith("c-") else ("r", field.split("-", 2)[2])
    form = response.context["form"] if prefix == "c" else response.context["formset"].forms[0]
    errors = form.errors.get(name)
    assert_named(errors, str(form.fields[name].label))
    for message in errors:
        assert message in response.text.replace("&quot;", '"').replace("&#x27;", "'") or "“" in message
    assert _claim_counts() == before


def test_registration_messages_read_exactly(client, caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    url = reverse("claim_register", args=[horqin_person.pk, contract.code])
    response = client.post(url, _registration_data(contract, **{
        "r-0-medfee_sumamt": "NaN", "r-0-hifp_pay": "1e30", "r-0-inscp_scp_amt": "123456789012345",
        "c-enddate": "9999-12-31", "c-begndate": "0001-01-01", "c-bank_account": NUL,
    }))
    form, record = response.context["form"], response.context["formset"].forms[0]
    assert record.errors == {
        "medfee_sumamt": ["医疗费总额：“NaN”不是金额。"],
        "hifp_pay": ["统筹基金支出：“1e30”不是金额。"],
        "inscp_scp_amt": ["符合政策范围金额：金额 123456789012345 过大（最多 999,999,999,999.99）。"],
    }
    assert form.errors == {
        "enddate": ["出院日期：日期 9999-12-31 不在 1900-01-01 – 2100-12-31 之间。"],
        "begndate": ["入院日期：日期 0001-01-01 不在 1900-01-01 – 2100-12-31 之间。"],
        "bank_account": ["银行账号：不允许包含空字符（\\x00）。"],
    }
    assert Claim.objects.count() == 0


def test_a_discharge_in_the_future_is_refused(client, caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(reverse("claim_register", args=[horqin_person.pk, contract.code]),
                           _registration_data(contract, **{"c-enddate": tomorrow.isoformat()}))
    assert response.context["form"].errors["enddate"] == [f"出院日期：日期 {tomorrow} 晚于今天。"]
    assert Claim.objects.count() == 0


def test_documents_received_before_the_discharge_are_refused_on_the_form(client, caseworker, horqin_person):
    contract = Contract.objects.get(code="tongliao-2025")
    client.force_login(caseworker)
    response = client.post(reverse("claim_register", args=[horqin_person.pk, contract.code]),
                           _registration_data(contract, **{"c-received_on": "2025-03-01"}))
    assert response.status_code == 200
    assert response.context["form"].errors["received_on"] == [
        "材料收到日期：材料不可能在出院（2025-03-02）之前收到（2025-03-01）。"]
    assert _claim_counts() == (0, 0, 0, 0)


def test_the_service_refuses_documents_received_before_the_discharge(caseworker, horqin_person):
    with pytest.raises(RegistrationRefused) as exc:
        _register(caseworker, horqin_person, received_on=dt.date(2025, 3, 1))
    assert exc.value.code == "received_before_discharge"
    assert _claim_counts() == (0, 0, 0, 0)


def test_documents_brought_later_with_a_hostile_date_are_refused_by_name(client, caseworker, horqin_person):
    claim = _register(caseworker, horqin_person, documents=[])
    client.force_login(caseworker)
    missing = [r.pk for r in requirements_for(program=claim.contract.program, claim_kind="inpatient", place="in_region")]
    for value, message in [
        ("9999-12-31", "收到日期：日期 9999-12-31 不在 1900-01-01 – 2100-12-31 之间。"),
        ("2025-03-01", "收到日期：材料不可能在出院（2025-03-02）之前收到（2025-03-01）。"),
        (HUGE, "收到日期：“xxxxxxxxxxxxxxxxxxxx…”不是日期（YYYY-MM-DD）。"),
    ]:
        response = client.post(reverse("claim_documents", args=[claim.pk]), {"documents": missing, "received_on": value})
        assert _one_message(response) == message
    assert not ClaimDocument.objects.filter(claim=claim).exists()


@pytest.mark.parametrize("reason", TEXT_VALUES, ids=ids)
def test_transition_and_extension_reasons_refuse_nul_and_50k(client, caseworker, horqin_person, reason):
    claim = _register(caseworker, horqin_person)
    client.force_login(caseworker)
    changes = ClaimStatusChange.objects.count()
    response = client.post(reverse("claim_transition", args=[claim.pk]), {"to": "withdrawn", "reason": reason})
    assert response.status_code == 302
    message = _one_message(response)
    assert message.startswith("原因：") and CJK.search(message[3:])
    response = client.post(reverse("claim_extend", args=[claim.pk]), {"reason": reason})
    assert response.status_code == 302
    assert ClaimStatusChange.objects.count() == changes
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DOCUMENTS_COMPLETE and claim.extension_reason == ""


# --------------------------------------------------------------------------- 试算 (trial) page


def _trial_data(**row):
    data = {"r-TOTAL_FORMS": "3", "r-INITIAL_FORMS": "0", "r-MIN_NUM_FORMS": "0", "r-MAX_NUM_FORMS": "20"}
    base = {"enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": "70000",
            "hifp_pay": "30000"}
    data.update({f"r-0-{k}": v for k, v in {**base, **row}.items()})
    return data


TRIAL_CASES = (
    [(f, v) for f in ("inscp_scp_amt", "hifp_pay") for v in MONEY_VALUES]
    + [("enddate", v) for v in DATE_VALUES]
    + [("setl_id", v) for v in TEXT_VALUES]
)


@pytest.mark.parametrize(("field", "value"), TRIAL_CASES, ids=[f"{f}={ids(v)}" for f, v in TRIAL_CASES])
def test_trial_form_refuses_hostile_values_on_the_named_field(client, caseworker, horqin_person, field, value):
    client.force_login(caseworker)
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]), _trial_data(**{field: value}))
    assert response.status_code == 200
    form = response.context["formset"].forms[0]
    assert_named(form.errors.get(field), str(form.fields[field].label))
    assert response.context["results"] is None


@pytest.mark.parametrize("total", ["1e30", "NaN", "99999999999999999999", "-1", HUGE], ids=ids)
def test_trial_formset_with_a_hostile_form_count_is_no_500(client, caseworker, horqin_person, total):
    client.force_login(caseworker)
    data = {**_trial_data(), "r-TOTAL_FORMS": total}
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]), data)
    assert response.status_code == 200
    assert response.context["results"] is None or len(response.context["results"]) <= 20


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("pasted", "message"), [
    (_nested(100_000), "input: JSON nested too deeply"),
    ('[{"setl_id": "S1", "enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", '
     '"inscp_scp_amt": ' + _nested(500) + "}]", "settlement S1 (index 0): field inscp_scp_amt: malformed amount list (expected a string or number)"),
    ('[{"setl_id": "S1", "enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": NaN}]',
     "input: invalid JSON: NaN is not an amount"),
    ('[{"setl_id": "S1", "enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": 1e30}]',
     "settlement S1 (index 0): field inscp_scp_amt: amount 1E+30 too large"),
    ('[{"setl_id": "S1", "enddate": "2025-05-02", "claim_kind": "inpatient", "place": "in_region", "inscp_scp_amt": null}]',
     "settlement S1 (index 0): field inscp_scp_amt: null is not an amount (leave the field out for 0)"),
    ('[{"setl_id": "S1", "enddate": "9999-12-31", "claim_kind": "inpatient", "place": "in_region"}]',
     'settlement S1 (index 0): field enddate: date "9999-12-31" outside 1900-01-01..2100-12-31'),
    ('[{"setl_id": "S1", "enddate": "0001-01-01", "claim_kind": "inpatient", "place": "in_region"}]',
     'settlement S1 (index 0): field enddate: date "0001-01-01" outside 1900-01-01..2100-12-31'),
], ids=["100k-deep", "500-deep-amount", "NaN", "1e30", "null", "9999-12-31", "0001-01-01"])
def test_pasted_json_refusals_are_one_message(client, caseworker, horqin_person, pasted, message):
    client.force_login(caseworker)
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]), {**_trial_data(), "pasted": pasted})
    assert response.status_code == 200
    assert response.context["paste_error"] == message
    assert response.context["results"] is None


@pytest.mark.parametrize("items", [_nested(50_000), '[{"code": ' + _nested(500) + ', "type": "drug", "amount": "1"}]',
                                   '[{"code": "D1", "type": "drug", "amount": NaN}]',
                                   '[{"code": "D1", "type": "drug", "amount": null}]'],
                         ids=["50k-deep", "500-deep-code", "NaN", "null"])
def test_itemised_lines_refuse_deep_json_and_non_amounts(client, db, items):
    from programs.models import Area

    user = UserFactory(role="caseworker", area_codes=["110105"])
    person = EnrollmentFactory(
        person=PersonFactory(area_code="110105"), contract=Contract.objects.get(code="beijing-chaoyang-2026"),
        area=Area.objects.get(code="110105"),
    ).person
    client.force_login(user)
    data = _trial_data(enddate="2026-03-02", hosp_lv="2", fulamt_ownpay_amt="100", items=items)
    response = client.post(reverse("trial", args=[person.pk, "beijing-chaoyang-2026"]), data)
    assert response.status_code == 200
    form = response.context["formset"].forms[0]
    assert str(form.fields["items"].label) == "明细项目"
    assert form.errors["items"] == ["明细项目须为 {code, type, amount} 组成的JSON列表。"]


# --------------------------------------------------------------------------- trial_calc command


WORKED = {"persons": [{"psn_no": "P1"}], "settlements": [
    {"setl_id": "S1", "psn_no": "P1", "enddate": "2025-03-02", "claim_kind": "inpatient", "place": "in_region",
     "inscp_scp_amt": "52000.00", "hifp_pay": "30000.00"}]}


def _with_amount(raw: str) -> str:
    return json.dumps(WORKED).replace('"52000.00"', raw)


@pytest.mark.parametrize(("document", "message"), [
    (_nested(100_000), "input: JSON nested too deeply"),
    ('{"persons": ' + _nested(100_000) + ', "settlements": []}', "input: JSON nested too deeply"),
    (_with_amount("NaN"), "input: invalid JSON: NaN is not an amount"),
    (_with_amount("-Infinity"), "input: invalid JSON: -Infinity is not an amount"),
    (_with_amount("1e30"), "settlement S1 (index 0): field inscp_scp_amt: amount 1E+30 too large"),
    (_with_amount('"123456789012345"'), 'settlement S1 (index 0): field inscp_scp_amt: amount "123456789012345" too large'),
    (_with_amount("null"), "settlement S1 (index 0): field inscp_scp_amt: null is not an amount (leave the field out for 0)"),
    (json.dumps(WORKED).replace("2025-03-02", "9999-12-31"),
     'settlement S1 (index 0): field enddate: date "9999-12-31" outside 1900-01-01..2100-12-31'),
], ids=["100k-deep", "100k-deep-persons", "NaN", "-Infinity", "1e30", "15-digits", "null", "9999-12-31"])
def test_trial_calc_command_refuses_with_one_message(tmp_path, document, message):
    path = tmp_path / "in.json"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        call_command("trial_calc", "--program", "tongliao-2025", str(path), stdout=io.StringIO())
    assert str(exc.value) == message


def test_trial_calc_from_stdin_exits_non_zero_with_one_line_and_no_traceback(tmp_path):
    import os

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.test", "INSURANCE_ADMIN_VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)  # a fresh SQLite installation of its own under tmp_path

    def manage(*args, stdin=b""):
        return subprocess.run([sys.executable, "manage.py", *args], input=stdin, capture_output=True, cwd=ROOT, env=env,
                              timeout=300, check=False)

    assert manage("migrate", "-v0").returncode == 0
    for document, message in [
        (_nested(100_000), "input: JSON nested too deeply"),
        (_with_amount("NaN"), "input: invalid JSON: NaN is not an amount"),
        (_with_amount("1e30"), "settlement S1 (index 0): field inscp_scp_amt: amount 1E+30 too large"),
        ("x" * 50_000, "input: invalid JSON (line 1, column 1): Expecting value"),
        ("\x00", "input: invalid JSON (line 1, column 1): Expecting value"),
    ]:
        result = manage("trial_calc", "--program", "tongliao-2025", "-", stdin=document.encode())
        assert result.returncode != 0 and result.stdout == b""
        assert result.stderr.decode() == f"CommandError: {message}\n"


# --------------------------------------------------------------------------- finance pages


@pytest.fixture
def finance_user(db):
    return UserFactory(username="fin", role="finance", area_codes=["411300"])


@pytest.fixture
def zhenping(finance_user):
    contract = Contract.objects.get(code="zhenping-2026")
    finance_services.premium_schedule_generate(contract=contract, user=finance_user,
                                               headcounts={"411324": {"active": 1000, "retired": 300}})
    return contract


def _finance_state(contract):
    return (
        LedgerEntry.objects.count(),
        list(PremiumInstallment.objects.filter(contract=contract).values_list("received", flat=True)),
        GuaranteeDeposit.objects.count(), Penalty.objects.count(), RevolvingFund.objects.count(),
    )


def _one_message(response) -> str:
    """The message this redirect added (the cookie storage keeps unread earlier ones before it)."""
    assert response.status_code == 302
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


MOVEMENT_CASES = (
    [("amount", v) for v in MONEY_VALUES]
    + [("on_date", v) for v in DATE_VALUES]
    + [(f, v) for f in ("reference", "memo") for v in TEXT_VALUES]
)


@pytest.mark.parametrize(("field", "value"), MOVEMENT_CASES, ids=[f"{f}={ids(v)}" for f, v in MOVEMENT_CASES])
def test_installment_receipt_refuses_hostile_values_by_name(client, finance_user, zhenping, field, value):
    client.force_login(finance_user)
    inst = PremiumInstallment.objects.get(contract=zhenping, seq=1)
    before = _finance_state(zhenping)
    data = {"amount": "100.00", "on_date": "2026-03-20", "reference": "HD001", "memo": "", field: value}
    message = _one_message(client.post(f"/finance/move/installment/{inst.pk}/receipt/", data))
    label = {"amount": "金额（元）", "on_date": "日期", "reference": "凭证号", "memo": "摘要"}[field]
    assert message.startswith(f"{label}: ") and CJK.search(message[len(label):]), message
    assert _finance_state(zhenping) == before


def test_installment_receipt_messages_read_exactly(client, finance_user, zhenping):
    client.force_login(finance_user)
    inst = PremiumInstallment.objects.get(contract=zhenping, seq=1)
    url = f"/finance/move/installment/{inst.pk}/receipt/"
    assert _one_message(client.post(url, {"amount": "NaN", "on_date": "2026-03-20"})) == "金额（元）: “NaN”不是金额。"
    assert _one_message(client.post(url, {"amount": "1e30", "on_date": "2026-03-20"})) == "金额（元）: “1e30”不是金额。"
    assert _one_message(client.post(url, {"amount": "123456789012345", "on_date": "2026-03-20"})) == (
        "金额（元）: 金额 123456789012345 过大（最多 999,999,999,999.99）。")
    assert _one_message(client.post(url, {"amount": "1.00", "on_date": "0001-01-01"})) == (
        "日期: 日期 0001-01-01 不在 1900-01-01 – 2100-12-31 之间。")
    assert _one_message(client.post(url, {"amount": "1.00", "on_date": "2026-03-20", "memo": NUL})) == (
        "摘要: 不允许包含空字符（\\x00）。")
    assert _one_message(client.post(url, {"on_date": "2026-03-20"})) == "金额（元）: 这个字段是必填项。"


SETUP_CASES = [
    ("deposit", {"kind": "contract", "basis": "合同约定"}, "required", "应缴金额（元）", MONEY_VALUES),
    ("deposit", {"kind": "contract", "required": "1000.00"}, "basis", "依据", TEXT_VALUES),
    ("revolving", {}, "last_year_income", "上年度收入（元）", MONEY_VALUES),
    ("penalty", {"kind": "recovery", "reason": "违约", "imposed_on": "2026-03-01"}, "amount", "金额（元）", MONEY_VALUES),
    ("penalty", {"kind": "recovery", "reason": "违约", "amount": "10.00"}, "imposed_on", "认定日期", DATE_VALUES),
    ("penalty", {"kind": "recovery", "amount": "10.00", "imposed_on": "2026-03-01"}, "reason", "原因", TEXT_VALUES),
    ("event", {"event": "signing"}, "on_date", "日期", DATE_VALUES),
    ("headcount", {"headcounts": "411324 active 1000", "reason": "变更"}, "effective_on", "生效日期", DATE_VALUES),
    ("topup", {}, "month", "月份", DATE_VALUES),
]
SETUP_PARAMS = [(what, base, field, label, v) for what, base, field, label, values in SETUP_CASES for v in values]


@pytest.mark.parametrize(("what", "base", "field", "label", "value"), SETUP_PARAMS,
                         ids=[f"{w}-{f}={ids(v)}" for w, _b, f, _l, v in SETUP_PARAMS])
def test_contract_setup_forms_refuse_hostile_values_by_name(client, finance_user, zhenping, what, base, field, label, value):
    client.force_login(finance_user)
    before = _finance_state(zhenping)
    message = _one_message(client.post(f"/finance/contracts/{zhenping.code}/do/{what}/", {**base, field: value}))
    assert message.startswith(f"{label}: ") and CJK.search(message[len(label):]), message
    assert _finance_state(zhenping) == before


@pytest.mark.parametrize("deposit", ["abc", NUL, "99999999999999999999", "1e30", ""], ids=ids)
def test_cases_closed_for_a_forged_deposit_id_is_404_not_500(client, finance_user, zhenping, deposit):
    client.force_login(finance_user)
    before = _finance_state(zhenping)
    response = client.post(f"/finance/contracts/{zhenping.code}/do/closed/", {"closed_on": "2026-03-01", "deposit": deposit})
    assert response.status_code == 404
    assert _finance_state(zhenping) == before


@pytest.mark.parametrize("count", ["99999999999999999999", "1e30", NUL], ids=ids)
def test_headcounts_beyond_any_county_are_refused(client, finance_user, zhenping, count):
    client.force_login(finance_user)
    before = _finance_state(zhenping)
    data = {"headcounts": f"411324 active {count}", "reason": "变更", "effective_on": "2026-03-01"}
    message = _one_message(client.post(f"/finance/contracts/{zhenping.code}/do/headcount/", data))
    assert message.startswith("新参保人数: ") and CJK.search(message[7:]), message
    assert _finance_state(zhenping) == before


@pytest.mark.parametrize("period", ["0000-03", "0000", "0000-Q1", HUGE, NUL], ids=ids)
def test_report_period_out_of_range_is_a_message_not_a_500(client, finance_user, zhenping, period):
    client.force_login(finance_user)
    response = client.get(f"/finance/contracts/{zhenping.code}/report/", {"kind": "monthly", "period": period})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert CJK.search(message)


# --------------------------------------------------------------------------- deductions and recoveries


@pytest.fixture
def done_batch(db):
    user = UserFactory(username="rev_tl", role="reviewer", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    contract = Contract.objects.get(code="tongliao-2025")
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(csv_bytes([tongliao_row("S1", person)])), user=user)
    imports.batch_validate(batch.pk)
    imports.batch_confirm(batch=HospitalBatch.objects.get(pk=batch.pk), user=user)
    batch = imports.batch_apply(batch.pk)
    assert batch.status == HospitalBatch.Status.DONE
    return batch, user


ADJUST_CASES = (
    [("d", "amount", v) for v in MONEY_VALUES] + [("d", "reason", v) for v in TEXT_VALUES]
    + [("r", "amount", v) for v in MONEY_VALUES] + [("r", "found_on", v) for v in DATE_VALUES]
)


@pytest.mark.parametrize(("prefix", "field", "value"), ADJUST_CASES, ids=[f"{p}-{f}={ids(v)}" for p, f, v in ADJUST_CASES])
def test_deductions_and_recoveries_refuse_hostile_values_by_name(client, done_batch, prefix, field, value):
    batch, user = done_batch
    client.force_login(user)
    data = {f"{prefix}-setl_id": "S1", f"{prefix}-amount": "10.00", f"{prefix}-reason": "不合规", f"{prefix}-found_on": "2025-04-01"}
    data[f"{prefix}-{field}"] = value
    url = reverse("hospital_batch_deduction_add" if prefix == "d" else "hospital_batch_recovery_add", args=[batch.pk])
    message = _one_message(client.post(url, data))
    label = {"amount": "金额", "reason": "原因", "found_on": "发现日期"}[field]
    assert message.startswith(f"{label}: ") and CJK.search(message[len(label):]), message
    assert not Deduction.objects.exists() and not Recovery.objects.exists()


@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01", NUL, HUGE], ids=ids)
def test_deduction_confirmation_date_is_bounded(client, done_batch, on):
    batch, user = done_batch
    deduction = imports.deduction_record(settlement=Settlement.objects.get(setl_id="S1"), amount=Decimal("10.00"),
                                         reason="不合规", user=user)
    client.force_login(user)
    url = reverse("hospital_batch_deduction_confirm", args=[batch.pk, deduction.pk])
    message = _one_message(client.post(url, {"party": "hospital", "on": on}))
    assert message.startswith("确认日期: ") and CJK.search(message), message
    deduction.refresh_from_db()
    assert deduction.hospital_confirmed_on is None


# --------------------------------------------------------------------------- person search and claim list


@pytest.mark.parametrize("q", [NUL, HUGE, "包\x00", "1e30"], ids=ids)
def test_person_search_with_nul_or_50k_is_a_message_not_a_500(client, caseworker, horqin_person, q):
    client.force_login(caseworker)
    response = client.get("/", {"q": q})
    assert response.status_code == 200
    search = response.context["search"]
    if q == "1e30":
        assert search.problem == "" and search.rows == []
    else:
        assert search.problem in ("查询内容不能包含空字符（\\x00）。", "查询内容过长（最多 100 个字符）。")
        assert search.problem in response.text and search.rows == []


@pytest.mark.parametrize("params", [
    {"q": NUL}, {"hospital": HUGE}, {"amount_min": "NaN"}, {"amount_max": "1e30"}, {"due_from": "0001-01-01"},
    {"due_to": "9999-12-31"}, {"area": "99999999999999999999"}, {"contract": NUL}, {"page": "1e30"}, {"status": NUL},
], ids=lambda p: "-".join(f"{k}={ids(v)}" for k, v in p.items()))
def test_claim_list_filters_never_give_a_500(client, caseworker, reviewer, horqin_person, params):
    _register(caseworker, horqin_person)  # a row to match: SQLite checks a LIKE pattern only against rows
    client.force_login(reviewer)
    assert client.get(reverse("claim_list"), params).status_code == 200


@pytest.mark.parametrize(("field", "value", "message"), [
    ("month", "9999-12", "结算月份：日期 9999-12-01 不在 1900-01-01 – 2100-12-31 之间。"),
    ("month", "0001-01", "结算月份：日期 0001-01-01 不在 1900-01-01 – 2100-12-31 之间。"),
    ("month", NUL, "结算月份：“a�b”不是日期（YYYY-MM-DD）。"),
    ("reported_on", "0001-01-01", "报送日期：日期 0001-01-01 不在 1900-01-01 – 2100-12-31 之间。"),
    ("reported_on", HUGE, "报送日期：“xxxxxxxxxxxxxxxxxxxx…”不是日期（YYYY-MM-DD）。"),
], ids=["9999-12", "0001-01", "month-NUL", "reported-0001", "reported-50k"])
def test_hospital_batch_upload_refuses_hostile_months_and_dates(client, field, value, message):
    user = UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    client.force_login(user)
    data = {"contract": Contract.objects.get(code="tongliao-2025").pk, "month": "2025-03", "reported_on": "2025-04-01",
            "file": upload(csv_bytes([tongliao_row("S1", person)])), field: value}
    response = client.post(reverse("hospital_batch_upload"), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors[field] == [message]
    assert not HospitalBatch.objects.exists()


# --------------------------------------------------------------------------- hospital batches


def test_a_batch_whose_validation_raises_ends_failed_with_the_reason_and_can_be_retried(client, monkeypatch):
    from claims.imports import batches

    user = UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    contract = Contract.objects.get(code="tongliao-2025")
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(csv_bytes([tongliao_row("S1", person)])), user=user)

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr(batches, "scan", broken)
        failed = imports.batch_validate(batch.pk)
    assert failed.status == HospitalBatch.Status.FAILED
    assert [e["message"] for e in imports.rendered_errors(failed.errors)] == ["文件校验失败：RuntimeError: disk on fire"]
    assert failed.log.filter(action="failed").exists()
    client.force_login(user)
    page = client.get(reverse("hospital_batch_detail", args=[batch.pk]))
    assert "文件校验失败：RuntimeError: disk on fire" in page.text and reverse("hospital_batch_retry", args=[batch.pk]) in page.text
    response = client.post(reverse("hospital_batch_retry", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == HospitalBatch.Status.VALIDATED and batch.errors == [] and batch.row_count == 1
    assert batch.log.filter(action="retried", by=user).exists()
    # only a failed batch is retried
    response = client.post(reverse("hospital_batch_retry", args=[batch.pk]))
    assert _one_message(response) == "只有失败的批次可以重试。"


def test_a_batch_left_validating_by_a_dead_worker_is_taken_up_again(db):
    user = UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    contract = Contract.objects.get(code="tongliao-2025")
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1),
                                 uploaded_file=upload(csv_bytes([tongliao_row("S1", person)])), user=user)
    HospitalBatch.objects.filter(pk=batch.pk).update(status=HospitalBatch.Status.VALIDATING)  # the worker died here
    assert imports.batch_validate(batch.pk).status == HospitalBatch.Status.VALIDATED


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"hifp_pay": "1e30"}, [(2, "hifp_pay（统筹基金支出）", "金额 1e30 过大（最多 999,999,999,999.99）。")]),
    ({"hifp_pay": "123456789012345"}, [(2, "hifp_pay（统筹基金支出）", "金额 123456789012345 过大（最多 999,999,999,999.99）。")]),
    ({"hifp_pay": "NaN"}, [(2, "hifp_pay（统筹基金支出）", "“NaN”不是金额。")]),
    ({"hifmi_pay": "-Infinity"}, [(2, "hifmi_pay（大病保险支出）", "“-Infinity”不是金额。")]),
    ({"psn_name": "包\x00宝山"}, [(2, "psn_name（姓名）", "该值含有空字符（\\x00）。")]),
    ({"certno": "1\x00"}, [(2, "certno（身份证号）", "该值含有空字符（\\x00）。")]),
    ({"enddate": "9999-12-31", "setl_time": ""},
     [(2, "enddate（出院日期）", "日期 9999-12-31 不在合同期间 2025-01-01 – 2025-12-31 内。")]),
], ids=["1e30", "15-digits", "NaN", "-Infinity", "NUL-name", "NUL-certno", "9999-12-31"])
def test_hostile_cells_in_a_hospital_file_refuse_it_by_row_and_column(overrides, expected):
    user = UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山")).person
    contract = Contract.objects.get(code="tongliao-2025")
    before = (Settlement.objects.count(), Deduction.objects.count(), Recovery.objects.count())
    batch = imports.batch_upload(contract=contract, month=dt.date(2025, 3, 1), user=user,
                                 uploaded_file=upload(csv_bytes([tongliao_row("S1", person, **overrides)])))
    batch = imports.batch_validate(batch.pk)
    assert batch.status == HospitalBatch.Status.REFUSED
    assert [(e["row"], e["column"], e["message"]) for e in imports.rendered_errors(batch.errors)] == expected
    assert (Settlement.objects.count(), Deduction.objects.count(), Recovery.objects.count()) == before


@pytest.mark.parametrize(("value", "cleaned", "error"), [
    ("999999999999.99", Decimal("999999999999.99"), None),
    ("000000000000001.50", Decimal("1.50"), None),
    (" 12.5 ", Decimal("12.5"), None),
    ("1000000000000.00", None, "金额 1000000000000.00 过大（最多 999,999,999,999.99）。"),
    ("1.005", None, "金额 1.005 超过两位小数。"),
    ("-0.01", None, "金额 -0.01 为负数。"),
    ("1E5", None, "“1E5”不是金额。"),
    ("1,000", Decimal("1000"), None),
    ("10,000,000.00", Decimal("10000000.00"), None),
    ("1,00", None, "“1,00”不是金额。"),
    ("1000,000", None, "“1000,000”不是金额。"),
    ("1,000,000,000,000.00", None, "金额 1000000000000.00 过大（最多 999,999,999,999.99）。"),
    ("１２", None, "“１２”不是金额。"),
    ("9" * 41, None, "“99999999999999999999…”不是金额。"),
    ("sNaN", None, "“sNaN”不是金额。"),
])
def test_money_field_boundaries(value, cleaned, error):
    from django import forms

    from insurance_admin.core.forms import FieldNamedErrors, MoneyField

    class Form(FieldNamedErrors, forms.Form):
        amount = MoneyField(label="金额（元）")

    form = Form({"amount": value})
    assert form.is_valid() is (error is None)
    if error is None:
        assert form.cleaned_data["amount"] == cleaned
    else:
        assert form.errors["amount"] == [f"金额（元）：{error}"]


def test_the_largest_amounts_the_columns_hold_give_a_result_not_a_500(client, caseworker, horqin_person):
    client.force_login(caseworker)
    response = client.post(reverse("trial", args=[horqin_person.pk, "tongliao-2025"]),
                           _trial_data(inscp_scp_amt="999999999999.99", hifp_pay="0"))
    assert response.status_code == 200
    [result] = response.context["results"]
    assert Decimal("0") < result["payable"] <= Decimal("380000.00")  # the contract's cap


@pytest.mark.parametrize("cell", [{"psn_name": "包\x00山"}, {"certno": "1505\x00"}, {"admdvs": "\x00"}],
                         ids=["name", "certno", "admdvs"])
def test_an_enrollment_list_with_nul_is_refused_at_upload_with_a_message(client, cell):
    from programs.models import ImportBatch, InsuredPerson
    from tests.programs.registry_helpers import csv_bytes as list_bytes
    from tests.programs.registry_helpers import person_row

    user = UserFactory(username="root", is_superuser=True)
    client.force_login(user)
    data = list_bytes([person_row(1), person_row(2, **cell)], encoding="utf-8")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("import_batch_list"), {
        "contract": Contract.objects.get(code="tongliao-2025").pk, "file": SimpleUploadedFile("list.csv", data),
        "effective_date": "2025-01-01", "mode": "full", "source": "group",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [
        "文件含有空字符（\\x00），不是文本名单；请另存为 UTF-8 CSV 或 XLSX 后再上传。"]
    assert not ImportBatch.objects.exists() and not InsuredPerson.objects.exists()
