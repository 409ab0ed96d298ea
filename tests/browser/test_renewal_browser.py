"""Issue 22's acceptance, in a real browser, through the web pages only: the administrator renews
Tongliao 2025 into 2026 with a new per-capita premium and one changed band, validates and
activates it; the new year then takes an enrollment list, a caseworker registers a claim that a
reviewer approves under the changed band, and the slip is printed; finance generates the 2026 premium schedule from the renewed installment rules.
Then finance staff simulate Zhenping 2026 with the supplementary rate raised from 90 % to 95 % and
read the effect and the suggested premium (the figures computed here by the simulation service
from the same seeded year)."""

import copy
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from claims.models import Claim, Settlement, SlipPrint
from claims.services import plan_of
from finance import services as finance_services
from finance.models import PremiumInstallment, SimulationRun
from finance.simulation import Scenario, simulate
from finance.simulation_runs import simulation_run_execute
from programs import services
from programs.models import Area, BenefitPlan, Contract, Enrollment, ImportBatch, InsuredPerson
from tests.browser.conftest import OUTPUT
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page, name):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"renewal-{name}.png"), full_page=True)


def _login(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_administrator_renews_tongliao_2025_into_2026_and_the_new_year_works(seeded, live_server, page, browser, tmp_path,
                                                                              settings):
    settings.MEDIA_ROOT = tmp_path
    UserFactory(username="adm_b", first_name="系统管理员", role="administrator", area_codes=["150500"])
    UserFactory(username="cw_b", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])
    UserFactory(username="rv_b", first_name="审核员", role="reviewer", area_codes=["150500"])
    url = live_server.url
    _login(page, url, "adm_b")

    # from the home page's contract list to the contract page, then 续签下一年度
    page.goto(f"{url}/?year=2025")
    page.click("text=通辽市2025年度城乡居民大病医疗保险服务项目协议书")
    page.wait_for_url("**/contracts/tongliao-2025/headcount/")
    page.click("button:has-text('续签下一年度')")
    page.wait_for_url("**/contracts/tongliao-2026/renewal/")
    assert "续签下一年度" in page.inner_text("h1") and "草稿" in page.inner_text("h1")
    assert "尚无修改" in page.inner_text("#changes")
    _shot(page, "draft")

    # a new per-capita premium and one changed band rate (大病保险, first row, band 1: 60 % → 65 %)
    page.fill("input[name=premium-rate_" + str(Contract.objects.get(code="tongliao-2026").premium_rates.get().pk) + "]",
              "130.00")
    page.fill("input[name=plan-l0_r0_b0_rate]", "65")
    page.click("button:has-text('保存修改')")
    page.wait_for_url("**/contracts/tongliao-2026/renewal/")
    assert "修改已保存" in page.inner_text("main")
    changes = page.inner_text("#changes")
    assert "114.23" in changes and "130.00" in changes and "65.00" in changes
    assert len(page.locator("#changes tbody tr").all()) == 2  # only what was changed
    assert "E+" not in page.inner_html("#plan")  # rates read 60, not 6E+1
    _shot(page, "changed")

    # an overlapping band is refused naming the liability and the band; nothing is written
    page.fill("input[name=plan-l0_r0_b1_upto]", "1")
    page.click("button:has-text('保存修改')")
    assert "重叠" in page.inner_text("#plan")
    _shot(page, "refused")
    page.goto(f"{url}/contracts/tongliao-2026/renewal/")

    page.click("button:has-text('校验')")
    page.wait_for_url("**/contracts/tongliao-2026/renewal/")
    assert "全部条款校验通过" in page.inner_text("main")
    page.check("input[name=enrollments][value=wait]")
    page.click("button:has-text('启用')")
    page.wait_for_url("**/contracts/tongliao-2026/headcount/")
    assert "合同已启用" in page.inner_text("main")
    _shot(page, "activated")

    new = Contract.objects.get(code="tongliao-2026")
    assert (new.status, new.period_start, new.signed_on) == ("active", dt.date(2026, 1, 1), None)
    assert new.premium_rates.get().per_capita == Decimal("130.00")
    band = BenefitPlan.objects.get(contract=new).rules["liabilities"][0]["schedule"][0]["bands"][0]
    assert band["rate"] == "0.65"
    assert Contract.objects.get(code="tongliao-2025").premium_rates.get().per_capita == Decimal("114.23")

    # the new year takes its enrollment list (the worker's steps run in the test)
    path = tmp_path / "2026名单.csv"
    path.write_bytes(csv_bytes([person_row(1, name="包宝山"), person_row(3, name="王芳")]))
    page.goto(f"{url}/registry/imports/")
    page.select_option("select[name=contract]", label="通辽市2026年度城乡居民大病医疗保险服务项目协议书")
    page.set_input_files("input[name=file]", str(path))
    page.fill("input[name=effective_date]", "2026-01-01")
    page.click("text=上传并校验")
    page.wait_for_url("**/registry/imports/*/")
    batch = ImportBatch.objects.get()
    services.import_batch_validate(batch_id=batch.pk)
    page.locator("[data-field=status_display]", has_text="校验通过，待确认").wait_for(timeout=10_000)
    page.click("text=确认并写入有效行")
    page.wait_for_url("**/registry/imports/*/")
    services.import_batch_apply(batch_id=batch.pk)
    assert Enrollment.objects.filter(contract=new).count() == 2
    page.reload()
    _shot(page, "list-imported")

    # a claim on the new year: 52,000 in scope, 30,000 paid by the basic insurance, deductible
    # 14,000 → 8,000 in band 1, now at 65 % (last year 60 %: 4,800.00)
    person = InsuredPerson.objects.get(name="包宝山")
    window = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    _login(window, url, "cw_b")
    window.goto(f"{url}/persons/{person.pk}/?year=2026")
    window.click("text=登记理赔")
    window.wait_for_url("**/tongliao-2026/**")
    window.select_option("select[name=c-claim_kind]", "inpatient")
    window.select_option("select[name=c-place]", "in_region")
    window.fill("input[name=c-fixmedins_name]", "通辽市医院")
    window.fill("input[name=c-begndate]", "2026-02-20")
    window.fill("input[name=c-enddate]", "2026-03-02")
    window.fill("input[name=r-0-setl_id]", "M-2026-001")
    window.fill("input[name=r-0-medfee_sumamt]", "52000.00")
    window.fill("input[name=r-0-inscp_scp_amt]", "52000.00")
    window.fill("input[name=r-0-hifp_pay]", "30000.00")
    for box in window.locator("input[name=c-documents]").all():
        box.check()
    window.fill("input[name=c-received_on]", "2026-03-05")
    window.click("button:has-text('登记')")
    window.wait_for_url("**/claims/*/")
    claim = Claim.objects.get()
    assert claim.contract.code == "tongliao-2026"
    window.click("button[value=calculated]")
    window.wait_for_selector("#trial-payable")
    assert window.inner_text("#trial-payable") == "5,200.00"
    window.click("button[value=submitted]")
    window.wait_for_selector("h1:has-text('已提交审核')")

    reviewer = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    _login(reviewer, url, "rv_b")
    reviewer.goto(f"{url}/claims/?status=submitted")
    reviewer.click(f"text={claim.claim_no}")
    reviewer.check("#confirm-review")
    reviewer.click("button[value=approved]")
    reviewer.wait_for_selector("#payable")
    assert reviewer.inner_text("#payable") == "5,200.00"
    with reviewer.context.expect_event("response", lambda r: r.url.endswith("/slip.pdf")) as printed:
        reviewer.click("#slip-link")
    assert (printed.value.request.method, printed.value.status) == ("POST", 200)
    assert list(SlipPrint.objects.values_list("copy_no", "printed_by__username")) == [(1, "rv_b")]
    _shot(reviewer, "claim-approved")

    # finance generates the 2026 premium schedule from the renewed installment rules (80 % thirty
    # days after signing, the remainder on 20 December) on the new per-capita premium
    UserFactory(username="fin_b", first_name="通辽财务", role="finance", area_codes=["150500"])
    finance = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1400}).new_page()
    _login(finance, url, "fin_b")
    finance.goto(f"{url}/finance/contracts/tongliao-2026/")
    assert "尚无保费计划" in finance.inner_text("#premium")
    finance.click("#premium summary")
    finance.click("#premium form.setup button")
    finance.wait_for_url("**/finance/contracts/tongliao-2026/**")
    new.refresh_from_db()
    total = (Decimal("130.00") * new.headcount).quantize(Decimal("0.01"))
    first = (total * Decimal("0.8")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    rows = [[c.inner_text().strip() for c in row.locator("td").all()] for row in finance.locator("#premium tbody tr").all()]
    assert [(r[0], r[4]) for r in rows] == [("1", f"{first:,.2f}"), ("2", f"{total - first:,.2f}")]
    assert rows[1][3].startswith("2026-12-20")
    assert rows[0][3] == "—"  # due thirty days after a signing not yet recorded
    assert f"{total:,.2f}" in finance.inner_text("#premium dl")
    assert list(PremiumInstallment.objects.filter(contract=new).order_by("seq").values_list("amount", flat=True)) == [
        first, total - first]
    _shot(finance, "schedule")


def _zhenping_year(persons: int = 9) -> Contract:
    """A Zhenping 2026 year: employees and retirees with one or two records beyond the basic
    fund's maximum, one large enough to reach the 540,000 cap under the raised rate."""
    contract = Contract.objects.get(code="zhenping-2026")
    area = Area.objects.get(code="411324")
    amounts = [Decimal("12000.00"), Decimal("35500.50"), Decimal("8000.00"), Decimal("590000.00"), Decimal("150000.00"),
               Decimal("2300.10"), Decimal("47000.00"), Decimal("99999.99"), Decimal("61000.00")]
    for i in range(persons):
        enrollment = EnrollmentFactory(person=PersonFactory(), contract=contract, area=area,
                                       employment="retired" if i % 3 == 0 else "active")
        for j in range(1 + i % 2):
            over = amounts[(i + j) % len(amounts)]
            Settlement.objects.create(
                contract=contract, person=enrollment.person, area=area, setl_id=f"Z{i}-{j}",
                psn_no=enrollment.person.psn_no, enddate=dt.date(2026, 1 + (i + j) % 11, 10), claim_kind="inpatient",
                place="in_region", inscp_scp_amt=over + Decimal("80000"), hifp_pay=Decimal("60000"),
                hifmi_pay=Decimal("0"), over_cap_amt=over)
    return contract


@pytest.fixture
def ledger_emptied_after(seeded):
    """Zhenping's schedule withholds its deposit (a ledger entry); SQLite's flush is a DELETE,
    which the append-only trigger refuses: empty the ledger with the triggers lifted first."""
    yield
    from django.db import connection

    from finance.ledger_triggers import TABLE, create_statements, drop_statements

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for statement in drop_statements("sqlite"):
                cursor.execute(statement)
            cursor.execute(f"DELETE FROM {TABLE}")
            for statement in create_statements("sqlite"):
                cursor.execute(statement)


def _money(value) -> str:
    return f"{Decimal(value):,.2f}"


def test_finance_staff_simulate_zhenping_2026_with_the_supplementary_rate_raised_to_95_percent(seeded, ledger_emptied_after, live_server, page):
    fin = UserFactory(username="fin_zp_b", first_name="镇平财务", role="finance", area_codes=["411324"])
    contract = _zhenping_year()
    finance_services.premium_schedule_generate(contract=contract, user=fin,
                                               headcounts={"411324": {"active": 3001, "retired": 1200}})
    url = live_server.url
    _login(page, url, "fin_zp_b")

    page.click("text=续签测算")
    page.wait_for_url("**/finance/simulations/")
    page.click("a[href$='/finance/simulations/new/zhenping-2026/']")
    page.wait_for_url("**/finance/simulations/new/zhenping-2026/")
    assert page.locator("fieldset.liability legend").first.inner_text() == "大额医疗费用补助"
    assert page.input_value("input[name=l0_r0_b0_rate]") == "90"
    page.fill("input[name=l0_r0_b0_rate]", "95")
    _shot(page, "zhenping-simulation-new")
    page.click("text=开始测算")
    page.wait_for_url("**/finance/simulations/*/")
    assert "排队中" in page.inner_text("#simulation-progress")
    assert page.locator("progress.simprogress").count() == 1
    _shot(page, "zhenping-simulation-queued")

    # the test settings queue Celery tasks without running them: the worker's one call, here
    simulation_run_execute(SimulationRun.objects.get().pk)
    page.locator("text=建议人均保费").first.wait_for(timeout=15_000)  # the page polled and reloaded itself
    assert page.locator("progress.simprogress").count() == 0
    assert "已完成" in page.inner_text("#simulation-progress")

    # the figures the service computes from the same stored year
    raised = copy.deepcopy(plan_of(contract).rules)
    raised["liabilities"][0]["schedule"][0]["bands"][0]["rate"] = "0.95"
    run = SimulationRun.objects.get()
    expected = simulate(contract, Scenario(plan=raised, per_capita={"active": Decimal(str(run.per_capita["active"])),
                                                                     "retired": Decimal(str(run.per_capita["retired"]))},
                                           target_surplus_rate=run.target))
    assert expected.scenario.payable > expected.actual.payable > 0
    assert expected.records == Settlement.objects.filter(contract=contract).count() == 13
    # an independent check of the engine's totals: 90 % / 95 % of what exceeds the basic fund, per person up to the cap
    per_person = {}
    for s in Settlement.objects.filter(contract=contract):
        per_person[s.person_id] = per_person.get(s.person_id, Decimal(0)) + s.over_cap_amt
    for rate, side in ((Decimal("0.90"), expected.actual), (Decimal("0.95"), expected.scenario)):
        assert side.payable == sum(min((v * rate).quantize(Decimal("0.01"), ROUND_HALF_UP), Decimal("540000"))
                                   for v in per_person.values())

    changed = page.inner_text("main")
    assert "90" in changed and "95" in changed
    summary = page.locator("table.comparison").first
    first_row = [c.inner_text().strip() for c in summary.locator("tbody tr").first.locator("td").all()]
    assert first_row[1:4] == [_money(expected.actual.payable), _money(expected.scenario.payable),
                              "+" + _money(expected.scenario.payable - expected.actual.payable)]
    assert page.inner_text("p.suggestion").startswith(_money(expected.suggested_per_capita))
    page.locator("#chart-liability svg").wait_for(timeout=10_000)
    _shot(page, "zhenping-simulation-done")


def test_rolling_last_years_list_forward_shows_a_progress_bar_that_follows_the_job(seeded, live_server, page):
    from programs.models import EnrollmentCarryForward
    from programs.services import enrollment_carry_forward_run

    UserFactory(username="adm_roll_b", first_name="系统管理员", role="administrator", area_codes=["150500"])
    for _ in range(3):
        EnrollmentFactory(person=PersonFactory(area_code="150502"))
    EnrollmentFactory(person=PersonFactory(area_code="150502"), status="terminated", enrolled_to=dt.date(2025, 6, 30))
    url = live_server.url
    _login(page, url, "adm_roll_b")
    page.goto(f"{url}/contracts/tongliao-2025/headcount/")
    page.click("button:has-text('续签下一年度')")
    page.wait_for_url("**/contracts/tongliao-2026/renewal/")
    page.check("input[name=enrollments][value=roll]")
    page.click("button:has-text('启用')")
    page.wait_for_url("**/contracts/tongliao-2026/headcount/")
    assert "合同已启用；上一年度 3 条有效参保登记正在结转（进度见下方）。" in page.inner_text("main")
    assert page.locator("#carry-forward-progress progress").count() == 1
    assert "0 / 3" in page.inner_text("#carry-forward-progress")
    _shot(page, "roll-forward-running")

    # the test settings queue Celery tasks without running them: the worker's one call, here
    enrollment_carry_forward_run(carry_id=EnrollmentCarryForward.objects.get().pk)
    page.locator("text=已从 2025 年度名单结转 3 条参保登记。").wait_for(timeout=15_000)  # polled, then reloaded
    assert page.locator("#carry-forward-progress progress").count() == 0
    assert Enrollment.objects.filter(contract__code="tongliao-2026").count() == 3
    _shot(page, "roll-forward-done")
