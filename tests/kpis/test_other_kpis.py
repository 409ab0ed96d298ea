"""Overdue deadlines, fund figures and platform-vs-engine differences on hand-built data."""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace
from unittest import mock

import pytest

from finance.models import FinanceTerms
from insurance_admin.kpis import deadlines as dk
from insurance_admin.kpis import funds as fk
from insurance_admin.kpis import settlements as sk
from programs.models import Contract

from .builders import HORQIN, KAILU, TONGLIAO, make_check, make_deadline

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 11, 10)


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


def test_overdue_counts_every_kind_open_and_past_due_in_the_areas(tongliao):
    make_deadline(kind="claim_service", area=HORQIN, due=dt.date(2025, 11, 7))  # overdue
    make_deadline(kind="claim_service", area=HORQIN, due=dt.date(2025, 11, 10))  # due today: not overdue
    make_deadline(kind="claim_service", area=HORQIN, due=dt.date(2025, 11, 1), met=dt.date(2025, 11, 3))  # met
    make_deadline(kind="claim_service", area=KAILU, due=dt.date(2025, 10, 1))  # other county
    make_deadline(kind="premium_installment", area=TONGLIAO, due=dt.date(2025, 6, 30))  # contract-wide
    make_deadline(kind="hospital_payment", area=TONGLIAO, due=dt.date(2025, 9, 30))
    make_deadline(kind="claim_service", area="411627", due=dt.date(2025, 10, 1), contract="taikang-2025")  # other contract
    horqin = dk.overdue_by_kind(tongliao, [HORQIN], TODAY)
    assert [(r.kind, r.count, r.oldest_due) for r in horqin] == [("claim_service", 1, dt.date(2025, 11, 7))]
    region = dk.overdue_by_kind(tongliao, [TONGLIAO], TODAY)
    assert [(r.kind, r.count) for r in region] == [("claim_service", 2), ("hospital_payment", 1), ("premium_installment", 1)]
    assert dk.overdue(tongliao, [TONGLIAO], TODAY).count() == 4
    assert dk.overdue(tongliao, [HORQIN], dt.date(2025, 11, 11)).count() == 2  # tomorrow the due-today one is late


def _position(fund, spend, usage=None, usage_rate=None, loss_ratio=None, below=False):
    return SimpleNamespace(fund=D(fund), medical_spend=D(spend), usage=usage, usage_rate=usage_rate, loss_ratio=loss_ratio,
                           below_commitment=below)


@pytest.mark.parametrize(("spend", "rate", "status"), [
    ("970000.00", D("3.00"), "within"),  # exactly 3 % is still kept
    ("969999.00", D("3.00"), "above"),  # 3.0001 %: the excess above 3 % returns
    ("1000001.00", D("0.00"), "loss"),
    ("1000000.00", D("0.00"), "within"),
])
def test_surplus_rate_against_the_retention_band(tongliao, spend, rate, status):
    with mock.patch.object(fk, "fund_position_of", return_value=_position("1000000.00", spend)) as call:
        figures = fk.fund_figures(tongliao, [TONGLIAO], dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    call.assert_called_once_with(tongliao, None, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert (figures.surplus_rate, figures.surplus_status, figures.retention_limit) == (rate, status, D("3.00"))


def test_rolling_surplus_against_the_30_percent_line():
    taikang = Contract.objects.get(code="taikang-2025")
    usage = SimpleNamespace(new_rolling_surplus=D("290000.00"), last_year_premium=D("1000000.00"), warning_amount=D("300000.00"),
                            financing_adjustment_warning=True)
    with mock.patch.object(fk, "fund_position_of", return_value=_position("1000000.00", "950000.00", usage, D("0.95"), D("0.95"))):
        figures = fk.fund_figures(taikang, None, None, None)
    assert (figures.rolling_ratio, figures.rolling_threshold, figures.rolling_below_line) == (D("29.00"), D("30.00"), True)
    assert (figures.usage_rate, figures.commitment, figures.loss_ratio) == (D("95.00"), D("90.00"), D("95.00"))
    assert FinanceTerms.objects.get(contract=taikang).clearing == "yearly_usage" and figures.surplus_status == ""


def test_fund_figures_of_one_county_book_and_of_two(tongliao):
    with mock.patch.object(fk, "fund_position_of", return_value=_position("100.00", "50.00")) as call:
        fk.fund_figures(tongliao, [HORQIN], None, None)
        assert call.call_args.args[1].code == HORQIN
        figures = fk.fund_figures(tongliao, [HORQIN, KAILU], None, None)
    assert call.call_count == 1 and figures.position is None and figures.usage_rate is None


def test_fund_figures_come_from_the_finance_selector_unchanged(tongliao):
    from finance.selectors import fund_position

    figures = fk.fund_figures(tongliao, [TONGLIAO], tongliao.period_start, tongliao.period_end)
    position = fund_position(tongliao, None, start=tongliao.period_start, end=tongliao.period_end)
    assert figures.position == position


def test_platform_engine_differences(tongliao):
    make_check(area=HORQIN, enddate=dt.date(2025, 3, 1), platform="100.00", engine="100.00")
    make_check(area=HORQIN, enddate=dt.date(2025, 3, 2), platform="100.00", engine="90.00")
    make_check(area=HORQIN, enddate=dt.date(2025, 3, 3), platform="50.00", engine="55.50", hospital=("H8", "通辽市医院"))
    make_check(area=KAILU, enddate=dt.date(2025, 3, 3), platform="10.00", engine="0.00", hospital=("H7", "开鲁县医院"))
    make_check(area=HORQIN, enddate=dt.date(2026, 1, 3), platform="10.00", engine="0.00")  # outside the period
    d = sk.platform_engine_differences(tongliao, [HORQIN], dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert (d.checked, d.differing, d.platform, d.engine, d.difference, d.absolute) == (
        3, 2, D("250.00"), D("245.50"), D("-4.50"), D("15.50"))
    assert [(h.code, h.checked, h.differing, h.difference, h.absolute) for h in d.by_hospital] == [
        ("H9", 2, 1, D("-10.00"), D("10.00")), ("H8", 1, 1, D("5.50"), D("5.50"))]
    region = sk.platform_engine_differences(tongliao, [TONGLIAO], dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert (region.checked, region.differing, region.difference) == (4, 3, D("-14.50"))
