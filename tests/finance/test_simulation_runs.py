"""Renewal simulation as a job and as pages (测算, issue 22 item 3): the run's lifecycle, the
form, scoping and permissions, the PDF and XLSX comparison."""

import copy
import io
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from claims.models import Settlement
from claims.plan_forms import PlanFiguresForm
from claims.services import plan_of
from finance import services, simulation_runs
from finance.models import SimulationRun
from finance.simulation import Scenario, simulate
from finance.simulation_runs import result_document, simulation_plan_document, simulation_run_create
from finance.tasks import simulation_run_task
from programs.models import Contract
from tests.factories import UserFactory
from tests.finance.test_simulation import _year
from tests.finance.test_views import needs_poppler, pdf_text

pytestmark = pytest.mark.django_db
CONTRACT = "tongliao-2025"


@pytest.fixture
def fin(db):
    return UserFactory(username="fin_sim", role="finance", area_codes=["150500"])


@pytest.fixture
def year(fin):
    contract = _year(seed=5, persons=12)
    services.premium_schedule_generate(contract=contract, user=fin, headcounts={"": {"resident": 1000}})
    return contract


def _raised(document: dict) -> dict:
    doc = copy.deepcopy(document)
    doc["liabilities"][0]["schedule"][0]["bands"][0]["rate"] = str(
        min(Decimal(doc["liabilities"][0]["schedule"][0]["bands"][0]["rate"]) + Decimal("0.05"), Decimal(1)))
    return doc


def _form_data(contract, **changes) -> dict:
    """Every field of the new-simulation form at its initial value, then `changes`."""
    form = PlanFiguresForm(plan_of(contract).rules)
    data = {name: "" if f.initial is None else str(f.initial) for name, f in form.fields.items()}
    data.update({"per_capita_resident": "114.23", "target_kind": "surplus_rate", "target": "3"})
    data.update(changes)
    return data


def _done_run(contract, user, **kwargs) -> SimulationRun:
    run = simulation_run_create(contract=contract, user=user, plan=_raised(plan_of(contract).rules),
                                per_capita={"resident": Decimal("120.00")}, target_kind="surplus_rate",
                                target=Decimal("0.03"), **kwargs)
    simulation_run_task(run.pk)
    run.refresh_from_db()
    assert run.status == "done", run.error
    return run


# --- the job ------------------------------------------------------------------------------


def test_a_run_goes_queued_running_done_and_stores_what_simulate_returns(year, fin, django_capture_on_commit_callbacks):
    plan = _raised(plan_of(year).rules)
    with django_capture_on_commit_callbacks() as callbacks:
        run = simulation_run_create(contract=year, user=fin, plan=plan, per_capita={"resident": Decimal("120.00")},
                                    target_kind="surplus_rate", target=Decimal("0.03"))
    assert len(callbacks) == 1  # enqueued when the transaction commits, not before
    assert (run.status, run.progress_done, run.result) == ("queued", 0, None)

    seen = []
    real = simulation_runs.simulate

    def small_chunks(contract, scenario, *, progress):
        def spy(done, total):
            progress(done, total)  # the service's own UPDATE, then what the page's poll reads
            seen.append(SimulationRun.objects.values_list("status", "progress_done", "progress_total").get(pk=run.pk))
        return real(contract, scenario, chunk_size=5, progress=spy)

    with mock.patch.object(simulation_runs, "simulate", small_chunks):
        assert simulation_run_task(run.pk) == "done"
    total = Settlement.objects.filter(contract=year).count()
    assert seen[0] == ("running", 5, total)
    assert [s[1] for s in seen] == [*range(5, total + 1, 5), total]  # after every chunk, and at the end
    assert all(s[0] == "running" for s in seen)

    run.refresh_from_db()
    direct = simulate(year, Scenario(plan=plan, per_capita={"resident": Decimal("120.00")},
                                     target_surplus_rate=Decimal("0.03")))
    assert run.status == "done" and run.error == "" and run.finished_at is not None
    assert run.result == json.loads(json.dumps(result_document(direct, simulation_runs.scenario_of(run))))
    assert run.result["scenario"]["payable"] == str(direct.scenario.payable)
    assert run.result["suggested_per_capita"] == str(direct.suggested_per_capita)
    assert (run.progress_done, run.progress_total, run.percent) == (direct.records, direct.records, 100)
    # a redelivered task finds the run finished and does nothing
    assert simulation_run_task(run.pk) == "skipped"


def test_a_failing_plan_ends_failed_with_a_chinese_error_and_no_result(year, fin):
    bad = copy.deepcopy(plan_of(year).rules)
    bad["liabilities"][0]["schedule"][0]["bands"][0]["rate"] = "abc"
    run = simulation_run_create(contract=year, user=fin, plan=bad, per_capita={}, target_kind="surplus_rate",
                                target=Decimal("0.03"))
    assert simulation_run_task(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == "failed" and run.result is None and run.finished_at is not None
    assert run.error.startswith("测算失败：测算方案的待遇方案无效：")
    with pytest.raises(ValidationError):
        simulation_plan_document(run)


def test_an_unexpected_error_fails_the_run_in_chinese(year, fin):
    run = simulation_run_create(contract=year, user=fin, plan=plan_of(year).rules, per_capita={},
                                target_kind="loss_ratio", target=Decimal("0.9"))
    with mock.patch.object(simulation_runs, "simulate", side_effect=ZeroDivisionError):
        simulation_run_task(run.pk)
    run.refresh_from_db()
    assert (run.status, run.result) == ("failed", None)
    assert run.error == "测算因内部错误失败，详情已记录，请联系系统管理员。"


def test_the_scenario_plan_is_handed_to_the_renewal_as_a_document(year, fin):
    run = _done_run(year, fin)
    document = simulation_plan_document(run)
    assert document == _raised(plan_of(year).rules)
    document["liabilities"] = []
    assert simulation_plan_document(run)["liabilities"]  # a copy: the run keeps its scenario


# --- the pages ----------------------------------------------------------------------------


def test_the_form_is_prefilled_and_grouped_by_liability(client, year, fin):
    client.force_login(fin)
    page = client.get(f"/finance/simulations/new/{CONTRACT}/")
    assert page.status_code == 200
    text = page.text
    assert 'name="per_capita_resident"' in text and 'value="114.23"' in text
    assert 'name="target" value="3"' in text  # the contract's retention limit, 3 %
    assert 'name="l0_r0_b0_rate" value="60"' in text and "E+" not in text  # 60, not 6E+1
    assert "赔付比例（%）" in text
    assert text.count('<fieldset class="liability">') == len(plan_of(year).rules["liabilities"])
    assert CONTRACT not in text.replace(f"/simulations/new/{CONTRACT}/", "")


def test_a_bad_rate_is_refused_naming_the_liability_and_the_band(client, year, fin):
    client.force_login(fin)
    page = client.post(f"/finance/simulations/new/{CONTRACT}/", _form_data(year, l0_r0_b2_rate="120"))
    assert page.status_code == 200
    assert SimulationRun.objects.count() == 0
    assert "大病保险 · 人员类别：普通人员；就医地：自治区内 · 第 3 档比例（%）：比例应在 0 至 100% 之间。" in page.text


def test_submitting_creates_a_run_and_redirects_to_its_page(client, year, fin, django_capture_on_commit_callbacks):
    client.force_login(fin)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/finance/simulations/new/{CONTRACT}/",
                               _form_data(year, l0_r0_b0_rate="65", per_capita_resident="120.00", target="5"))
    run = SimulationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/finance/simulations/{run.pk}/"
    assert len(callbacks) == 1
    assert (run.status, run.target_kind, run.target, run.per_capita) == ("queued", "surplus_rate", Decimal("0.0500"),
                                                                         {"resident": "120.00"})
    assert run.plan["liabilities"][0]["schedule"][0]["bands"][0]["rate"] == "0.65"
    assert [c[1:] for c in run.changes] == [["60", "65"], ["114.23", "120.00"]]  # figures as people write them
    page = client.get(f"/finance/simulations/{run.pk}/")
    assert '<progress class="simprogress"' in page.text and 'data-finished="0"' in page.text
    progress = client.get(f"/finance/simulations/{run.pk}/progress/").json()
    assert progress == {"status": "queued", "status_display": "排队中", "done": 0, "total": 0, "percent": 0,
                        "finished": False, "error": ""}


def test_the_finished_run_page_compares_in_words_not_codes(client, year, fin):
    run = _done_run(year, fin)
    client.force_login(fin)
    page = client.get(f"/finance/simulations/{run.pk}/")
    text = page.text
    assert page.status_code == 200
    suggested = Decimal(run.result["suggested_per_capita"])
    assert f"{suggested:,.2f}" in text
    assert "建议人均保费 = 测算方案赔付额 ÷（1 − 目标结余率）÷ 缴费人数，按分向上取整。" in text
    assert "普通人员" in text and "特殊人群" in text  # categories in words
    assert "科尔沁区" in text
    assert 'id="chart-liability-options"' in text and 'id="chart-histogram-options"' in text
    assert "<script>" not in text and CONTRACT not in text and '"by_liability"' not in text
    assert "ordinary" not in text.split("<main>")[1]


def test_runs_are_scoped_and_starting_one_needs_the_permission(client, year, fin):
    run = _done_run(year, fin)
    other = UserFactory(username="fin_taikang", role="finance", area_codes=["411600"])
    county = UserFactory(username="fin_county", role="finance", area_codes=["150502"])
    caseworker = UserFactory(username="cw_sim", role="caseworker", area_codes=["150500"])
    supervisor = UserFactory(username="sup_sim", role="supervisor", area_codes=["150500"])
    for user in (other, county):
        client.force_login(user)
        assert client.get(f"/finance/simulations/{run.pk}/").status_code == 404
        assert client.get(f"/finance/simulations/{run.pk}/progress/").status_code == 404
        assert client.get(f"/finance/simulations/{run.pk}/comparison.xlsx").status_code == 404
    client.force_login(other)
    assert client.get(f"/finance/simulations/new/{CONTRACT}/").status_code == 404
    client.force_login(caseworker)
    assert client.get(f"/finance/simulations/new/{CONTRACT}/").status_code == 403
    assert client.get(f"/finance/simulations/{run.pk}/").status_code == 403
    client.force_login(supervisor)
    assert client.get(f"/finance/simulations/{run.pk}/").status_code == 200
    assert client.get("/finance/simulations/").status_code == 200
    assert client.get(f"/finance/simulations/new/{CONTRACT}/").status_code == 403
    assert client.post(f"/finance/simulations/new/{CONTRACT}/", _form_data(year)).status_code == 403
    assert SimulationRun.objects.count() == 1


@needs_poppler
def test_the_pdf_states_the_suggested_premium_and_draws_the_charts(client, year, fin, tmp_path):
    run = _done_run(year, fin)
    client.force_login(fin)
    response = client.get(f"/finance/simulations/{run.pk}/comparison.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    suggested = Decimal(run.result["suggested_per_capita"])
    assert f"{suggested:,.2f} 元/人" in text
    assert "按分向上取整" in text and "各责任赔付额" in text and "实际年度" in text


def test_the_xlsx_holds_numbers_and_native_bar_charts(client, year, fin):
    run = _done_run(year, fin)
    client.force_login(fin)
    response = client.get(f"/finance/simulations/{run.pk}/comparison.xlsx")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: [Decimal(str(v)) if isinstance(v, float | int) else v for v in row[1:4]]
            for row in ws.iter_rows(values_only=True) if row and row[0]}
    assert rows["建议人均保费"][0] == Decimal(run.result["suggested_per_capita"])
    actual, scenario, difference = rows["赔付总额"]
    assert (actual, scenario) == (Decimal(run.result["actual"]["payable"]), Decimal(run.result["scenario"]["payable"]))
    assert difference == scenario - actual > 0
    assert rows["达到封顶线人数"][:2] == [run.result["actual"]["persons_at_cap"], run.result["scenario"]["persons_at_cap"]]
    number = next(c for row in ws.iter_rows() for c in row if c.value == "赔付总额").row
    assert ws.cell(number, 2).number_format == "#,##0.00"
    assert len(ws._charts) == 2


def test_a_formula_like_liability_name_is_text_in_the_xlsx(client, year, fin):
    run = _done_run(year, fin)
    run.result["scenario"]["by_liability"]["=HYPERLINK(1)"] = "1.00"
    run.save(update_fields=["result"])
    client.force_login(fin)
    ws = load_workbook(io.BytesIO(client.get(f"/finance/simulations/{run.pk}/comparison.xlsx").content)).active
    assert "'=HYPERLINK(1)" in [row[0] for row in ws.iter_rows(values_only=True)]


def test_the_contract_needs_no_schedule_to_be_simulated(client, fin):
    contract = Contract.objects.get(code="taikang-2025")
    admin = UserFactory(username="admin_sim", role="administrator", area_codes=["411600"])
    client.force_login(admin)
    page = client.get(f"/finance/simulations/new/{contract.code}/")
    assert page.status_code == 200 and "per_capita_" not in page.text


def test_the_simulations_record_builder_gives_the_engines_records(year):
    from claims.services import ROW_FIELDS, row_record
    from finance.simulation import _chunks, _record, _record_rows
    from programs.benefit_rules.glossary import AMOUNT_FIELDS

    settled = Settlement.objects.filter(contract=year)
    stored = list(settled.order_by("person_id", "enddate", "setl_time", "id").values_list(*ROW_FIELDS))
    # the simulation's own rows (every amount asked for), as its cursor hands them over
    rows = [row for chunk in _chunks(_record_rows(settled, set(AMOUNT_FIELDS)), 3) for row in chunk]
    items = [{"code": "X1", "type": "drug", "amount": "12.50"}]
    stored.append((*stored[0][:9], items, *stored[0][10:]))
    rows.append((*rows[0][:-1], json.dumps(items)))
    assert [_record(r) for r in rows] == [row_record(r) for r in stored]
    assert _record(rows[-1]).items[0].amount == Decimal("12.50")


def test_a_finished_scenario_becomes_the_renewal_drafts_plan_and_premium(year, fin, client):
    """设为续签方案: the raised band and the 120.00 per-capita premium land on the next year's
    draft, its dates moved a year; a finance user (no renewal right) is refused."""
    from django.urls import reverse

    from programs.models import BenefitPlan, PremiumRate

    run = _done_run(year, fin)
    url = reverse("finance:simulation_to_renewal", args=[run.pk])
    client.force_login(fin)
    assert client.post(url).status_code == 403
    admin = UserFactory(username="admin_sim", role="administrator", area_codes=["150500"])
    client.force_login(admin)
    response = client.post(url)
    draft = Contract.objects.get(code="tongliao-2026")
    assert (response.status_code, response.url) == (302, reverse("renewal", args=[draft.code]))
    assert draft.status == "draft"
    rules = BenefitPlan.objects.get(contract=draft).rules
    scenario = _raised(plan_of(year).rules)
    assert rules["liabilities"][0]["schedule"][0]["bands"] == scenario["liabilities"][0]["schedule"][0]["bands"]
    assert (rules["year"], rules["period_start"], rules["period_end"]) == (2026, "2026-01-01", "2026-12-31")
    assert PremiumRate.objects.get(contract=draft, headcount_category="resident").per_capita == Decimal("120.00")
    assert PremiumRate.objects.get(contract=year, headcount_category="resident").per_capita == Decimal("114.23")
