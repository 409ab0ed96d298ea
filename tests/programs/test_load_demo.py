"""`make run`'s demo registry: Beijing's superseded individual policies and their SMS."""

import pytest
from django.core.management import call_command

from programs.models import Enrollment, SmsNotification

pytestmark = pytest.mark.django_db


def test_demo_supersedes_three_individual_policies_once_and_queues_their_sms():
    call_command("load_demo", verbosity=0)
    individual = Enrollment.objects.filter(contract__code="beijing-chaoyang-2026", source="individual")
    assert individual.count() == 3
    assert {(e.status, str(e.cancelled_on)) for e in individual} == {("cancelled", "2026-03-01")}
    groups = Enrollment.objects.filter(pk__in=[e.superseded_by_id for e in individual])
    assert [(g.source, g.person_id, str(g.enrolled_from)) for g in groups.order_by("person_id")] == [
        ("group", e.person_id, "2026-03-01") for e in individual.order_by("person_id")
    ]
    sms = SmsNotification.objects.all()
    assert {(s.key, s.status, s.enrollment_id) for s in sms} == {
        (f"enrollment-superseded:{e.pk}", "queued", e.pk) for e in individual
    }
    assert sorted(s.phone for s in sms) == ["", "13800138001", "13911112222"]
    call_command("load_demo", verbosity=0)  # idempotent
    assert (individual.count(), SmsNotification.objects.count()) == (3, 3)
