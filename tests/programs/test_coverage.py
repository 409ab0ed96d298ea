"""Cover on a date (programs.coverage): the registry's dated states answer "covered, in which
period, with which attributes" for a discharge date."""

import datetime as dt

import pytest
from django.utils import translation

from programs.coverage import coverage_on, coverage_timelines
from programs.models import Area, Contract, EnrollmentPeriod
from tests.factories import EnrollmentFactory, PersonFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def tongliao():
    return Contract.objects.get(code="tongliao-2025")


def _on(person, contract, day):
    with translation.override("zh-hans"):
        coverage = coverage_on(person=person, contract=contract, on=day)
        return coverage, coverage.message


def test_an_exit_ends_cover_on_the_last_enrolled_day(tongliao):
    # 终止参保 from 2025-10-01: the registry keeps enrolled_to = 2025-09-30
    person = EnrollmentFactory(status="terminated", enrolled_to=D(2025, 9, 30)).person
    assert _on(person, tongliao, D(2025, 9, 30))[0].covered
    coverage, message = _on(person, tongliao, D(2025, 11, 10))
    assert (coverage.covered, coverage.reason, coverage.period_from, coverage.period_to) == (
        False, "after_end", D(2025, 1, 1), D(2025, 9, 30))
    assert message == "2025-11-10 不在保障期内：参保期为 2025-01-01 至 2025-09-30，此后已终止参保。"


def test_before_the_start_outside_the_year_and_without_enrollment(tongliao):
    late = EnrollmentFactory(enrolled_from=D(2025, 4, 1)).person
    assert _on(late, tongliao, D(2025, 3, 15))[1] == "2025-03-15 不在保障期内：参保自 2025-04-01 起。"
    assert _on(late, tongliao, D(2026, 1, 3))[1] == "2026-01-03 不在保障期内：不在保险年度 2025-01-01 至 2025-12-31 之内。"
    stranger = PersonFactory()
    assert _on(stranger, tongliao, D(2025, 3, 15))[1] == "2025-03-15 不在保障期内：未参加本合同。"
    cancelled = EnrollmentFactory(status="cancelled").person
    assert _on(cancelled, tongliao, D(2025, 3, 15))[0].reason == "not_enrolled"


def test_a_gap_after_an_exit_is_not_covered_and_the_return_has_the_new_attributes(tongliao):
    horqin = Area.objects.get(code="150502")
    enrollment = EnrollmentFactory(category="special", category_detail="特困", attributes_from=D(2025, 9, 1))
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=horqin, category="ordinary", employment="active",
                                    status="active", valid_from=D(2025, 1, 1), valid_to=D(2025, 5, 31))
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=horqin, category="ordinary", employment="active",
                                    status="exited", valid_from=D(2025, 6, 1), valid_to=D(2025, 8, 31))
    person = enrollment.person
    april, _ = _on(person, tongliao, D(2025, 4, 1))
    assert (april.covered, april.category, april.period_from, april.period_to) == (True, "ordinary", D(2025, 1, 1), D(2025, 5, 31))
    july, message = _on(person, tongliao, D(2025, 7, 1))
    assert (july.covered, july.reason) == (False, "gap")
    assert message == "2025-07-01 不在保障期内：2025-06-01 至 2025-08-31 期间中断参保。"
    september, _ = _on(person, tongliao, D(2025, 9, 5))
    assert (september.covered, september.category, september.category_detail, september.period_from) == (
        True, "special", "特困", D(2025, 9, 1))


def test_suspensions_past_and_current(tongliao):
    horqin = Area.objects.get(code="150502")
    enrollment = EnrollmentFactory(status="suspended", attributes_from=D(2025, 10, 1))
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=horqin, category="ordinary", employment="active",
                                    status="active", valid_from=D(2025, 1, 1), valid_to=D(2025, 2, 28))
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=horqin, category="ordinary", employment="active",
                                    status="suspended", valid_from=D(2025, 3, 1), valid_to=D(2025, 4, 30))
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=horqin, category="ordinary", employment="active",
                                    status="active", valid_from=D(2025, 5, 1), valid_to=D(2025, 9, 30))
    person = enrollment.person
    assert _on(person, tongliao, D(2025, 4, 1))[1] == "2025-04-01 不在保障期内：2025-03-01 至 2025-04-30 期间暂停参保。"
    assert _on(person, tongliao, D(2025, 6, 1))[0].covered
    assert _on(person, tongliao, D(2025, 10, 5))[1] == "2025-10-05 不在保障期内：自 2025-10-01 起暂停参保。"


def test_attributes_are_those_of_the_date_and_the_batch_loader_agrees(tongliao):
    horqin = Area.objects.get(code="150502")
    enrollment = EnrollmentFactory(category="special", category_detail="特困", attributes_from=D(2025, 7, 1),
                                   health="preexisting", student=True)
    EnrollmentPeriod.objects.create(enrollment=enrollment, area=horqin, category="ordinary", employment="active",
                                    status="active", valid_from=D(2025, 1, 1), valid_to=D(2025, 6, 30))
    person = enrollment.person
    march, _ = _on(person, tongliao, D(2025, 3, 10))
    august, _ = _on(person, tongliao, D(2025, 8, 10))
    assert march.attributes() == {"category": "ordinary", "employment": "active", "health": "preexisting",
                                  "continuous_no_claim_3y": False, "student": True}
    assert august.attributes()["category"] == "special"
    timeline = coverage_timelines(contract=tongliao)[person.pk]
    assert timeline.on(D(2025, 3, 10)) == march and timeline.on(D(2025, 8, 10)) == august
    assert [start for start, _ in timeline.attribute_changes()] == [D(2025, 1, 1), D(2025, 7, 1)]


def test_the_quick_answer_agrees_with_the_full_one_on_every_day(tongliao):
    horqin = Area.objects.get(code="150502")
    plain = EnrollmentFactory(enrolled_from=D(2025, 3, 1), status="terminated", enrolled_to=D(2025, 9, 30))
    changed = EnrollmentFactory(status="suspended", attributes_from=D(2025, 10, 1))
    EnrollmentPeriod.objects.create(enrollment=changed, area=horqin, category="ordinary", employment="active",
                                    status="exited", valid_from=D(2025, 1, 1), valid_to=D(2025, 2, 28))
    timelines = coverage_timelines(contract=tongliao)
    for enrollment in (plain, changed):
        timeline = timelines[enrollment.person_id]
        for offset in range(-3, 370):
            day = D(2025, 1, 1) + dt.timedelta(days=offset)
            assert timeline.covers(day) == timeline.on(day).covered, (enrollment, day)

