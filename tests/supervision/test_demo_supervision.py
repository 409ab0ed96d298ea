"""`load_demo_supervision`: the supervision pages have something to show after `make run`,
through the apps' services, and a second run creates nothing more."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_demo_supervision_is_idempotent_and_leaves_one_shortfall(client):
    from insurance_admin.accounts.models import User
    from insurance_admin.assessments.models import SupervisionRecord
    from insurance_admin.complaints.models import Complaint, ComplaintStatusChange
    from insurance_admin.core.models import Deadline
    from insurance_admin.staffing.models import StaffMember
    from insurance_admin.staffing.selectors import staffing_shortfalls
    from programs.models import Contract

    call_command("load_demo", verbosity=0)
    call_command("load_demo_supervision", verbosity=0)
    call_command("load_demo_supervision", verbosity=0)

    today = timezone.localdate()
    complaints = Complaint.objects.order_by("received_on")
    assert [c.status for c in complaints] == ["closed", "received", "answered", "investigating"]
    assert Complaint.objects.filter(status="received", answer_due__lt=today).count() == 1
    about_staff = Complaint.objects.get(category="staff_conduct")
    assert about_staff.about_staff.name == "王某某"
    assert about_staff.assigned_to.username == "supervisor"
    # every step left its status-change row: 1 + 2 + 3 + 4
    assert ComplaintStatusChange.objects.count() == 10
    assert Deadline.objects.filter(kind="complaint_answer").count() == 4

    assert StaffMember.objects.filter(contract__code="zhenping-2026").count() == 3
    assert StaffMember.objects.filter(contract__code="tongliao-2025").count() == 10
    assert StaffMember.objects.filter(contract__code="beijing-chaoyang-2026").count() == 6
    assert StaffMember.history.count() == 19
    zhenping = Contract.objects.get(code="zhenping-2026")
    tongliao = Contract.objects.get(code="tongliao-2025")
    assert staffing_shortfalls(zhenping, today) == []
    assert staffing_shortfalls(Contract.objects.get(code="beijing-chaoyang-2026"), today) == []
    assert [s.key for s in staffing_shortfalls(tongliao, today)] == [("medical", None, 10, 9)]

    record = SupervisionRecord.objects.get()
    assert (record.contract.code, record.item.name, str(record.points)) == ("zhenping-2026", "服务质量", "-2.00")
    assert "证据" in record.finding

    # Zhenping's year so far, computed once as a draft: the daily record's −2 is in its score
    from insurance_admin.assessments.models import Assessment

    assessment = Assessment.objects.get()
    assert (assessment.contract.code, assessment.status, assessment.kind) == ("zhenping-2026", "draft", "annual")
    assert (assessment.period_start, assessment.period_end) == (dt.date(2026, 1, 1), min(today, dt.date(2026, 12, 31)))
    quality = assessment.scores.get(item__name="服务质量")
    assert quality.points == quality.weight - 2
    assert assessment.total == sum(s.points for s in assessment.scores.all()) and assessment.grade

    client.force_login(User.objects.get(username="supervisor"))
    page = client.get("/supervision/complaints/").text
    assert all(c.complaint_no in page for c in complaints)
    assert "钱某某" in client.get("/supervision/staffing/").text  # opens on Beijing's team
    roster = client.get(f"/supervision/staffing/?contract={tongliao.pk}").text
    assert "郑某某" in roster and "医学相关背景 9 人，合同要求不少于 10 人。" in roster
    assert "王某某" in client.get(f"/supervision/staffing/?contract={zhenping.pk}").text
    page = client.get(f"/supervision/assessments/{assessment.pk}/").text
    assert "服务质量" in page and assessment.grade in page
