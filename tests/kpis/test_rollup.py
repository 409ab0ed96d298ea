"""The pre-aggregated rows equal the live figures after a refresh, and only then."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.urls import reverse

from insurance_admin.dashboards import selectors
from insurance_admin.kpis import claims as live
from insurance_admin.kpis import rollup
from insurance_admin.kpis import settlements as live_settlements
from insurance_admin.kpis.models import ClaimRollup
from programs.models import Contract
from tests.factories import UserFactory

from .builders import HORQIN, KAILU, TONGLIAO, build_claims, make_check, make_claim

pytestmark = pytest.mark.django_db
PERIODS = [(dt.date(2025, 1, 1), dt.date(2025, 12, 31)), (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
           (dt.date(2025, 9, 1), dt.date(2025, 10, 31))]


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


def _both(contract, areas, start, end):
    return (
        (live.claims_by_month(contract, areas, start, end), rollup.claims_by_month(contract, areas, start, end)),
        (live.service_times(contract, areas, start, end), rollup.service_times(contract, areas, start, end)),
        (live.payouts(contract, areas, start, end), rollup.payouts(contract, areas, start, end)),
        (live_settlements.platform_engine_differences(contract, areas, start, end),
         rollup.platform_engine_differences(contract, areas, start, end)),
    )


def test_after_a_refresh_the_rollup_equals_the_live_figures(tongliao):
    build_claims()
    make_check(area=HORQIN, enddate=dt.date(2025, 3, 2), platform="100.00", engine="90.00")
    make_check(area=KAILU, enddate=dt.date(2025, 9, 3), platform="10.00", engine="0.00", hospital=("H7", "开鲁县医院"))
    run = rollup.rollup_refresh(tongliao)
    assert run.rows == ClaimRollup.objects.filter(contract=tongliao).count() > 0
    for areas in ([HORQIN], [KAILU], [TONGLIAO], None):
        for start, end in PERIODS:
            for live_value, rolled in _both(tongliao, areas, start, end):
                assert rolled == live_value, (areas, start, end)
    # the figures themselves, once more by hand
    assert rollup.service_times(tongliao, [HORQIN], *PERIODS[0]).on_time_rate == D("75.00")
    assert rollup.service_times(tongliao, [TONGLIAO], *PERIODS[0]).histogram == {1: 1, 2: 1, 10: 1, 11: 1, 42: 1}


def test_a_new_claim_shows_after_the_next_refresh(tongliao):
    build_claims()
    rollup.rollup_refresh(tongliao)
    make_claim(area=HORQIN, registered=dt.date(2025, 3, 5), complete=dt.date(2025, 3, 5), due=dt.date(2025, 3, 19),
               approved=dt.date(2025, 3, 6), paid=dt.date(2025, 3, 7), payable="10.00")
    stale = rollup.payouts(tongliao, [HORQIN], *PERIODS[0])
    assert stale.claims == 4 and live.payouts(tongliao, [HORQIN], *PERIODS[0]).claims == 5
    rollup.rollup_refresh(tongliao)
    for live_value, rolled in _both(tongliao, [HORQIN], *PERIODS[0]):
        assert rolled == live_value


def test_dashboard_reads_the_rollup_for_whole_months_and_says_as_of_when(client, tongliao):
    build_claims()
    run = rollup.rollup_refresh(tongliao)
    selection = selectors.Selection(tongliao, None, [TONGLIAO], *PERIODS[0])
    board = selectors.dashboard(selection)
    assert board.from_rollup and board.generated_at == run.refreshed_at
    live_board = selectors.dashboard(selection, live=True)
    assert not live_board.from_rollup
    for name in ("months", "service", "payouts", "differences", "funds", "overdue"):
        assert getattr(board, name) == getattr(live_board, name), name
    part = selectors.Selection(tongliao, None, [TONGLIAO], dt.date(2025, 3, 2), dt.date(2025, 3, 31))
    assert not selectors.dashboard(part).from_rollup  # not whole months: live
    client.force_login(UserFactory(role="supervisor", area_codes=[TONGLIAO]))
    body = client.get(reverse("dashboards:dashboard"), {"contract": tongliao.pk, "start": "2025-01-01",
                                                        "end": "2025-12-31"}).content.decode()
    from django.utils import timezone

    assert f"数据截至 {timezone.localtime(run.refreshed_at):%Y-%m-%d %H:%M}" in body and "每10分钟" in body
