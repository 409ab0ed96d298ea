"""The plan's figures as a form (renewal and 测算): labels name the liability and who a row
applies to; bad figures are refused naming the liability, the row and the band."""

from decimal import Decimal

import pytest
from django.utils import translation

from claims.plan_forms import PlanFiguresForm
from programs.benefit_rules.plan_dict import plan_from_dict
from programs.models import BenefitPlan

pytestmark = pytest.mark.django_db


def _tongliao():
    return BenefitPlan.objects.get(contract__code="tongliao-2025").rules


def _data(form, **changes):
    data = {name: ("" if field.initial is None else str(field.initial)) for name, field in form.fields.items()}
    data.update(changes)
    return data


def test_unchanged_figures_give_the_same_plan():
    rules = _tongliao()
    form = PlanFiguresForm(rules, data=_data(PlanFiguresForm(rules)))
    assert form.is_valid(), form.errors
    assert plan_from_dict(form.document()) == plan_from_dict(rules)
    assert form.changes() == []


def test_one_changed_rate_and_deductible_change_only_those_figures():
    rules = _tongliao()
    blank = PlanFiguresForm(rules)
    form = PlanFiguresForm(rules, data=_data(blank, l0_r0_deductible="15,000.00", l0_r0_b0_rate="62.5"))
    assert form.is_valid(), form.errors
    doc = form.document()
    row = doc["liabilities"][0]["schedule"][0]
    assert (row["deductible"], row["bands"][0]["rate"]) == ("15000.00", "0.625")
    assert doc["liabilities"][0]["schedule"][1] == rules["liabilities"][0]["schedule"][1]
    assert rules["liabilities"][0]["schedule"][0]["deductible"] == "14000"  # the original is untouched
    assert sorted(c[0] for c in form.changes()) == sorted(
        [str(blank.fields["l0_r0_deductible"].label), str(blank.fields["l0_r0_b0_rate"].label)])


def test_overlapping_bands_and_a_rate_above_100_are_refused_naming_the_liability_row_and_band():
    rules = _tongliao()
    with translation.override("zh-hans"):
        blank = PlanFiguresForm(rules)
        form = PlanFiguresForm(rules, data=_data(blank, l0_r0_b1_upto="20000", l0_r0_b2_rate="120"))
        assert not form.is_valid()
        upto_error = form.errors["l0_r0_b1_upto"][0]
        rate_error = form.errors["l0_r0_b2_rate"][0]
    assert "大病保险" in upto_error and "第 2 档" in upto_error and "30,000.00" in upto_error
    assert "大病保险" in rate_error and "第 3 档" in rate_error and "100" in rate_error


def test_an_empty_cap_means_no_cap():
    rules = _tongliao()
    form = PlanFiguresForm(rules, data=_data(PlanFiguresForm(rules), l0_c0_amount=""))
    assert form.is_valid(), form.errors
    assert form.document()["liabilities"][0]["caps"][0]["amount"] is None
    assert Decimal(rules["liabilities"][0]["caps"][0]["amount"]) == Decimal("380000")
