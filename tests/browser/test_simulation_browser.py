"""A renewal simulation (测算) as finance staff run it in a browser: the scenario form, the run
page's progress bar following the worker without a reload by hand, the comparison with its
two ECharts charts, under the Content-Security-Policy (no inline script)."""

import pytest

from finance import services
from finance.models import SimulationRun
from finance.simulation_runs import simulation_run_execute
from tests.browser.conftest import OUTPUT
from tests.browser.test_csp_browser import _watch
from tests.factories import UserFactory
from tests.finance.test_simulation import _year

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_finance_staff_simulate_a_raised_rate_and_read_the_comparison(seeded, live_server, page):
    fin = UserFactory(username="fin_sim_b", first_name="通辽财务", role="finance", area_codes=["150500"])
    contract = _year(seed=5, persons=12)
    services.premium_schedule_generate(contract=contract, user=fin, headcounts={"": {"resident": 1000}})
    problems = _watch(page)
    url = live_server.url
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", "fin_sim_b")
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")

    page.click("text=续签测算")
    page.click("text=新建测算")
    page.wait_for_url("**/finance/simulations/new/*/")
    assert page.locator("fieldset.liability legend").first.inner_text() == "大病保险"
    page.fill("input[name=l0_r0_b0_rate]", "65")
    page.fill("input[name=per_capita_resident]", "120.00")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "simulation-new.png"), full_page=True)
    page.click("text=开始测算")
    page.wait_for_url("**/finance/simulations/*/")
    assert "排队中" in page.inner_text("#simulation-progress")
    assert page.locator("progress.simprogress").count() == 1

    simulation_run_execute(SimulationRun.objects.get().pk)  # what the worker does meanwhile
    page.locator("text=建议人均保费").first.wait_for(timeout=15_000)  # the page reloaded itself
    page.locator("#chart-liability svg").wait_for(timeout=10_000)
    page.locator("#chart-histogram svg").wait_for(timeout=10_000)
    text = page.inner_text("main")
    assert "已完成" in text and "各责任赔付额" in text and "普通人员" in text and "测算方案" in text
    assert "tongliao-2025" not in text
    page.screenshot(path=str(OUTPUT / "simulation-run.png"), full_page=True)
    assert problems == []
