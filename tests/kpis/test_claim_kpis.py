"""Each KPI on a hand-built data set, with figures computed by hand (builders.build_claims)."""

import datetime as dt
from decimal import Decimal as D

import pytest

from insurance_admin.kpis import claims as k
from insurance_admin.kpis import registry
from programs.models import Contract

from .builders import HORQIN, KAILU, TONGLIAO, build_claims

pytestmark = pytest.mark.django_db
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


@pytest.fixture
def claims(db):
    return build_claims()


def test_turnaround_across_national_day_counts_working_days_only(tongliao, claims):
    times = k.service_times(tongliao, [HORQIN], dt.date(2025, 10, 1), dt.date(2025, 10, 31))
    assert times.paid == 1 and times.histogram == {2: 1}  # 09-29 -> 10-09: 09-30 and 10-09
    assert (times.median_days, times.p90_days) == (2, 2)


def test_service_times_of_one_county_count_the_last_day_as_on_time(tongliao, claims):
    times = k.service_times(tongliao, [HORQIN], *YEAR)
    assert (times.paid, times.with_limit, times.on_time, times.late) == (4, 4, 3, 1)  # A, B (on its due day), D; C late
    assert times.on_time_rate == D("75.00")
    assert times.histogram == {1: 1, 2: 1, 10: 1, 11: 1}
    assert (times.median_days, times.p90_days) == (2, 11)  # nearest rank: 2nd and 4th of 4


def test_service_times_of_the_region_include_every_county(tongliao, claims):
    times = k.service_times(tongliao, [TONGLIAO], *YEAR)
    assert (times.paid, times.on_time, times.late) == (5, 3, 2)
    assert times.on_time_rate == D("60.00")
    assert times.histogram == {1: 1, 2: 1, 10: 1, 11: 1, 42: 1}  # E: Qingming off, Sunday 04-27 worked
    assert (times.median_days, times.p90_days) == (10, 42)
    assert k.service_times(tongliao, [KAILU], *YEAR).on_time_rate == D("0.00")


def test_no_paid_claims_give_no_rate_rather_than_zero(tongliao, claims):
    times = k.service_times(tongliao, [HORQIN], dt.date(2025, 7, 1), dt.date(2025, 7, 31))
    assert (times.paid, times.on_time_rate, times.median_days, times.p90_days) == (0, None, None, None)


def test_claims_by_month(tongliao, claims):
    rows = {r.month.month: r for r in k.claims_by_month(tongliao, [HORQIN], *YEAR)}
    assert len(rows) == 12
    assert (rows[3].received, rows[3].approved, rows[3].approved_amount, rows[3].paid, rows[3].paid_amount) == (
        2, 2, D("2300.50"), 2, D("2300.50"))
    assert (rows[9].received, rows[9].approved, rows[10].approved, rows[10].paid, rows[10].paid_amount) == (1, 0, 1, 1, D("1000.00"))
    assert (rows[6].received, rows[6].approved) == (1, 0)  # F submitted only
    assert sum(r.received for r in rows.values()) == 5
    kailu = {r.month.month: r for r in k.claims_by_month(tongliao, [KAILU], *YEAR)}
    assert (kailu[3].received, kailu[4].approved, kailu[4].paid_amount) == (1, 1, D("7777.77"))


def test_payouts_by_liability_level_place_category_and_top_hospitals(tongliao, claims):
    p = k.payouts(tongliao, [HORQIN], *YEAR)
    assert (p.claims, p.amount) == (4, D("3345.75"))
    assert [(s.key, s.claims, s.amount) for s in p.by_liability] == [
        ("critical_illness", 3, D("2800.50")), ("accident_basic", 1, D("500.00")), ("student_accident_outpatient", 1, D("45.25"))]
    assert [(s.key, s.label, s.claims, s.amount) for s in p.by_hospital_level] == [
        ("2", "二级", 1, D("45.25")), ("3", "三级", 2, D("2300.50")), ("3A", "三级甲等", 1, D("1000.00"))]
    assert [(s.key, s.claims, s.amount) for s in p.by_place] == [("in_region", 3, D("1345.75")), ("out_of_region", 1, D("2000.00"))]
    assert [(s.key, s.claims, s.amount) for s in p.by_category] == [("ordinary", 3, D("2345.75")), ("special", 1, D("1000.00"))]
    assert [(s.key, s.label, s.claims, s.amount) for s in p.top_hospitals] == [
        ("H2", "北京协和医院", 1, D("2000.00")), ("H1", "通辽市医院", 2, D("1300.50")), ("H3", "科尔沁区医院", 1, D("45.25"))]


def test_payouts_of_the_region_add_the_other_county(tongliao, claims):
    p = k.payouts(tongliao, [TONGLIAO], *YEAR)
    assert (p.claims, p.amount) == (5, D("11123.52"))
    assert p.top_hospitals[0].key == "H7"


def test_registered_scalars(tongliao, claims):
    def value(key, areas=(HORQIN,)):
        return registry.get(key).func(tongliao, list(areas), *YEAR)

    assert value("claims.received") == 5
    assert value("claims.approved") == 4
    assert value("claims.paid") == 4
    assert value("claims.approved_amount") == D("3345.75")
    assert value("claims.paid_within_limit_rate") == D("75.00")
    assert value("claims.turnaround_median") == 2
    assert value("claims.turnaround_p90") == 11
    assert value("claims.paid", (TONGLIAO,)) == 5
    assert "claims.on_time_rate" not in {k_.key for k_ in registry.all_kpis() if k_.func.__module__ == "insurance_admin.kpis.claims"}
