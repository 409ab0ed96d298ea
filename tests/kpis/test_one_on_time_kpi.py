"""One on-time KPI (issue 21): the dashboard's "paid within the time limit" and the assessment's
理赔时限 item read the same figure, live and from the rollup, on a hand-built set whose limits
run across the National Day holidays."""

import datetime as dt
import importlib
from decimal import Decimal as D

import pytest
from django.apps import apps as django_apps

from insurance_admin.assessments import services as assessment_services
from insurance_admin.assessments.models import AssessmentItem, AssessmentTemplate
from insurance_admin.core.workdays import load_calendar
from insurance_admin.dashboards import selectors
from insurance_admin.kpis import registry, rollup
from programs.models import Contract
from tests.factories import UserFactory

from .builders import HORQIN, TONGLIAO, build_claims, make_claim

pytestmark = pytest.mark.django_db
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 11, 30))  # Tongliao's assessment runs to 11-30


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


def _limit_across_national_day():
    # documents complete Fri 2025-09-26; 10 working days: Sun 09-28 (make-up), 09-29, 09-30,
    # (10-01..10-08 off) 10-09, 10-10, Sat 10-11 (make-up), 10-13, 10-14, 10-15, 10-16
    due = load_calendar().add_working_days(dt.date(2025, 9, 26), 10).date
    assert due == dt.date(2025, 10, 16)
    return due


def test_dashboard_figure_equals_the_assessments_measured_input(tongliao):
    build_claims()  # 5 paid with a limit in 2025: 3 on time (one on its due day), 2 late; 1 unpaid
    due = _limit_across_national_day()
    make_claim(area=HORQIN, registered=dt.date(2025, 9, 26), complete=dt.date(2025, 9, 26), due=due,
               approved=dt.date(2025, 10, 15), paid=due, payable="10.00")  # G: paid exactly on the limit
    make_claim(area=HORQIN, registered=dt.date(2025, 9, 26), complete=dt.date(2025, 9, 26), due=due,
               approved=dt.date(2025, 10, 15), paid=dt.date(2025, 10, 17), payable="10.00")  # H: one day late
    supervisor = UserFactory(role="supervisor", area_codes=[TONGLIAO])
    selection = selectors.Selection(contract=tongliao, area=None,
                                    areas=selectors.areas_for_selection(supervisor, tongliao, None), start=PERIOD[0],
                                    end=PERIOD[1])
    live = selectors.dashboard(selection, live=True)
    assert (live.from_rollup, live.service.with_limit, live.service.on_time) == (False, 7, 4)
    assessment = assessment_services.assessment_compute(contract=tongliao, period_start=PERIOD[0], period_end=PERIOD[1],
                                                        user=supervisor)
    score = assessment.scores.get(item__name="理赔时限")
    assert score.item.kpi_key == "claims.paid_within_limit_rate"
    assert live.service.on_time_rate == score.value == D("57.14")  # 4 of 7
    rollup.rollup_refresh(tongliao)
    stored = selectors.dashboard(selection)
    assert stored.from_rollup and stored.service.on_time_rate == score.value
    # one county: the dashboard's figure is the KPI's for that county
    horqin = selectors.Selection(contract=tongliao, area=None, areas=[HORQIN], start=PERIOD[0], end=PERIOD[1])
    kpi = registry.get("claims.paid_within_limit_rate").func
    assert selectors.dashboard(horqin, live=True).service.on_time_rate == kpi(tongliao, [HORQIN], *PERIOD) == D("66.67")


def test_one_on_time_indicator_is_offered_and_the_old_key_reads_it():
    keys = [key for key, _label in registry.choices()]
    assert "claims.paid_within_limit_rate" in keys and "claims.on_time_rate" not in keys
    assert dict(registry.choices())["claims.paid_within_limit_rate"] == "手工报销按时赔付率"
    assert registry.get("claims.on_time_rate") is registry.get("claims.paid_within_limit_rate")


def test_stored_templates_name_the_one_key_and_the_migration_renames_the_old_one():
    assert not AssessmentItem.objects.filter(kpi_key="claims.on_time_rate").exists()
    assert set(AssessmentItem.objects.filter(name="理赔时限").values_list("kpi_key", flat=True)) == {
        "claims.paid_within_limit_rate"}
    template = AssessmentTemplate.objects.get(contract__code="taikang-2025")
    item = template.items.get(name="理赔时限")
    AssessmentItem.objects.filter(pk=item.pk).update(kpi_key="claims.on_time_rate")  # as before the migration
    migration = importlib.import_module("insurance_admin.assessments.migrations.0003_one_on_time_kpi")
    migration.forward(django_apps, None)
    item.refresh_from_db()
    assert item.kpi_key == "claims.paid_within_limit_rate"
    item.full_clean()  # an administrator can edit it again: its indicator is known
