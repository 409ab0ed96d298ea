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

from .builders import HORQIN, KAILU, TONGLIAO, build_claims, make_check, make_claim, make_deadline

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
    part_board = selectors.dashboard(part)  # not whole months: the day rows
    assert part_board.from_rollup and part_board.generated_at == run.refreshed_at
    live_part = selectors.dashboard(part, live=True)
    for name in ("months", "service", "payouts", "differences", "funds", "overdue", "other_kpis"):
        assert getattr(part_board, name) == getattr(live_part, name), name
    client.force_login(UserFactory(role="supervisor", area_codes=[TONGLIAO]))
    body = client.get(reverse("dashboards:dashboard"), {"contract": tongliao.pk, "start": "2025-01-01",
                                                        "end": "2025-12-31"}).content.decode()
    from django.utils import timezone

    assert f"数据截至 {timezone.localtime(run.refreshed_at):%Y-%m-%d %H:%M}" in body and "每10分钟" in body
    body = client.get(reverse("dashboards:dashboard"), {"contract": tongliao.pk, "start": "2025-03-15",
                                                        "end": "2025-05-10"}).content.decode()
    assert f"数据截至 {timezone.localtime(run.refreshed_at):%Y-%m-%d %H:%M}" in body and "每10分钟" in body


#: periods that are not whole months: month rows for April plus day rows of the edges; days only
#: (within one month, across a month boundary); a period across the turn of the year
PARTIAL = [(dt.date(2025, 3, 15), dt.date(2025, 5, 10)), (dt.date(2025, 3, 2), dt.date(2025, 3, 17)),
           (dt.date(2025, 3, 17), dt.date(2025, 4, 29)), (dt.date(2025, 9, 29), dt.date(2025, 10, 8)),
           (dt.date(2025, 1, 2), dt.date(2025, 12, 30)), (dt.date(2024, 12, 15), dt.date(2026, 1, 15))]


def test_a_period_that_is_not_whole_months_equals_the_live_figures_exactly(tongliao):
    build_claims()
    make_check(area=HORQIN, enddate=dt.date(2025, 3, 16), platform="100.00", engine="90.00")
    make_check(area=HORQIN, enddate=dt.date(2025, 3, 14), platform="50.00", engine="50.00")
    make_check(area=KAILU, enddate=dt.date(2025, 5, 10), platform="10.00", engine="0.00", hospital=("H7", "开鲁县医院"))
    rollup.rollup_refresh(tongliao)
    for areas in ([HORQIN], [KAILU], [TONGLIAO], None):
        for start, end in PARTIAL:
            for live_value, rolled in _both(tongliao, areas, start, end):
                assert rolled == live_value, (areas, start, end)
    # by hand: 2025-03-15 .. 05-10 in 科尔沁区 holds B and C paid (03-17, 03-18; B on time, C
    # late), C approved 03-17, D registered, approved and paid in May (on time); the 03-14 check is outside,
    # the 03-16 one in
    start, end = PARTIAL[0]
    service = rollup.service_times(tongliao, [HORQIN], start, end)
    assert (service.paid, service.on_time, service.late, service.histogram) == (3, 2, 1, {10: 1, 11: 1, 1: 1})
    months = rollup.claims_by_month(tongliao, [HORQIN], start, end)
    assert [(m.month, m.received, m.approved, m.paid, m.paid_amount) for m in months] == [
        (dt.date(2025, 3, 1), 0, 1, 2, D("2300.50")), (dt.date(2025, 4, 1), 0, 0, 0, D("0.00")),
        (dt.date(2025, 5, 1), 1, 1, 1, D("45.25"))]
    differences = rollup.platform_engine_differences(tongliao, [HORQIN], start, end)
    assert (differences.checked, differences.differing, differences.difference) == (1, 1, D("-10.00"))


def test_the_grain_reads_month_rows_for_whole_months_and_day_rows_for_the_rest():
    from django.db.models import Q

    whole = rollup.grain(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert whole == Q(day__isnull=True, month__gte=dt.date(2025, 1, 1), month__lt=dt.date(2026, 1, 1))
    mixed = rollup.grain(dt.date(2025, 3, 15), dt.date(2025, 5, 10))
    assert mixed == (Q(day__isnull=True, month__gte=dt.date(2025, 4, 1), month__lt=dt.date(2025, 5, 1))
                     | Q(day__gte=dt.date(2025, 3, 15), day__lt=dt.date(2025, 4, 1))
                     | Q(day__gte=dt.date(2025, 5, 1), day__lte=dt.date(2025, 5, 10)))
    assert rollup.grain(dt.date(2025, 3, 15), dt.date(2025, 4, 10)) == Q(day__gte=dt.date(2025, 3, 15),
                                                                         day__lte=dt.date(2025, 4, 10))


def test_the_registered_kpis_the_rollup_serves_equal_the_live_kpis(tongliao):
    from insurance_admin.kpis import registry

    build_claims()
    rollup.rollup_refresh(tongliao)
    served = [key for key in rollup.KPIS if key in {k.key for k in registry.all_kpis()}]
    assert served
    for key in served:
        for areas in ([HORQIN], [KAILU], [TONGLIAO], None):
            for start, end in PERIODS + PARTIAL:
                figures = rollup.Figures(tongliao, areas, start, end)
                assert rollup.KPIS[key](figures) == registry.get(key).func(tongliao, areas, start, end), (key, areas, start, end)
    assert rollup.KPIS["claims.paid_within_limit_rate"](rollup.Figures(tongliao, [HORQIN], *PERIODS[0])) == D("75.00")


def test_the_overdue_counts_follow_every_deadline_write_and_equal_the_live_count_after_a_refresh(tongliao):
    from django.contrib.contenttypes.models import ContentType

    from insurance_admin.core import deadlines as core_deadlines
    from insurance_admin.core.models import Deadline
    from insurance_admin.kpis import deadlines as live_deadlines

    claims = build_claims()
    today = dt.date(2025, 11, 10)

    def counts(areas):
        rolled = rollup.overdue_by_kind(tongliao, areas, today)
        assert rolled == live_deadlines.overdue_by_kind(tongliao, areas, today), areas
        return [(k.kind, k.count, k.oldest_due) for k in rolled]

    def track(claim, due, met=None):
        core_deadlines.deadline_track(kind="claim_service", obj=claim, due_date=due, label=claim.claim_no, role="caseworker",
                                      contract_id=tongliao.pk, area_id=claim.area_id, met=met)

    for name, due in (("A", dt.date(2025, 10, 15)), ("C", dt.date(2025, 3, 17)), ("E", dt.date(2025, 3, 17)),
                      ("F", dt.date(2025, 6, 24)), ("D", dt.date(2025, 11, 10))):  # D: due today, not overdue
        track(claims[name], due)
    track(claims["B"], dt.date(2025, 3, 17), met=core_deadlines.Met(dt.date(2025, 3, 17), "paid"))  # met at once
    make_deadline(kind="premium_installment", area=TONGLIAO, due=dt.date(2025, 6, 30))  # contract-wide, at the region
    assert counts([TONGLIAO]) == [("claim_service", 4, dt.date(2025, 3, 17)), ("premium_installment", 1, dt.date(2025, 6, 30))]
    assert counts([HORQIN]) == [("claim_service", 3, dt.date(2025, 3, 17))]
    assert counts([KAILU]) == [("claim_service", 1, dt.date(2025, 3, 17))]
    assert counts(None) == counts([TONGLIAO])
    core_deadlines.deadline_meet(kind="claim_service", obj=claims["C"], on=dt.date(2025, 3, 18), what="paid")
    assert counts([HORQIN]) == [("claim_service", 2, dt.date(2025, 6, 24))]
    track(claims["F"], dt.date(2025, 11, 20))  # due date moved past today
    assert counts([HORQIN]) == [("claim_service", 1, dt.date(2025, 10, 15))]
    track(claims["C"], dt.date(2025, 3, 17))  # re-opened (its payment reversed)
    assert counts([HORQIN]) == [("claim_service", 2, dt.date(2025, 3, 17))]
    core_deadlines.deadline_untrack(kind="claim_service", obj=claims["E"])
    assert counts([KAILU]) == []
    track(claims["A"], None)  # no obligation any more
    assert counts([TONGLIAO]) == [("claim_service", 1, dt.date(2025, 3, 17)), ("premium_installment", 1, dt.date(2025, 6, 30))]
    # a row written around those functions (a bulk load) is counted by the next refresh
    Deadline.objects.create(kind="claim_service", content_type=ContentType.objects.get_for_model(Contract), object_id=99,
                            label="bulk", contract=tongliao, area=claims["E"].area, role="caseworker",
                            due_date=dt.date(2025, 2, 1), remind_on=dt.date(2025, 2, 1))
    assert rollup.overdue_by_kind(tongliao, [KAILU], today) == []
    assert len(live_deadlines.overdue(tongliao, [KAILU], today)) == 1
    rollup.rollup_refresh(tongliao)
    assert counts([KAILU]) == [("claim_service", 1, dt.date(2025, 2, 1))]
    assert counts([TONGLIAO]) == [("claim_service", 2, dt.date(2025, 2, 1)), ("premium_installment", 1, dt.date(2025, 6, 30))]


def test_the_dashboard_overdue_panel_reads_the_counts(client, tongliao):
    make_deadline(kind="claim_service", area=HORQIN, due=dt.date(2025, 1, 7))
    selection = selectors.Selection(tongliao, None, [TONGLIAO], *PERIODS[0])
    board = selectors.dashboard(selection, today=dt.date(2025, 11, 10))
    assert (board.overdue_total, [k.count for k in board.overdue], len(board.overdue_items)) == (1, [1], 1)
    from insurance_admin.core.models import OpenDeadlineCount

    OpenDeadlineCount.objects.update(count=5)  # the panel's count is the counts' (the items stay the deadlines)
    assert selectors.dashboard(selection, today=dt.date(2025, 11, 10)).overdue_total == 5
    assert selectors.dashboard(selection, today=dt.date(2025, 11, 10), live=True).overdue_total == 1
