"""Complaints: the answer clock in working days (contract or default), the one transition
service with its table, assignment, the deadline record, KPIs and the pages' scoping."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from insurance_admin.complaints import services
from insurance_admin.complaints.models import Complaint, ComplaintStatusChange
from insurance_admin.core.models import Deadline
from insurance_admin.kpis import registry
from insurance_admin.staffing.models import StaffMember
from programs.models import Area, Contract
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = Complaint.Status


def beijing():
    return Contract.objects.get(code="beijing-chaoyang-2026")


def tongliao():
    return Contract.objects.get(code="tongliao-2025")


def register_bj(user, person=None, received_on=dt.date(2026, 2, 12), **kw):
    values = {"channel": "window", "category": "service_quality", "complexity": "simple", "summary": "窗口排队时间过长",
              "complainant_person": person, "complainant_name": "" if person else "钱先生"}
    values.update(kw)
    return services.complaint_register(user=user, contract=beijing(), area=Area.objects.get(code="110105"),
                                       received_on=received_on, **values)


def answer(complaint, supervisor, on):
    complaint = services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, user=supervisor, assignee=supervisor)
    return services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=supervisor, answer="已答复并致歉",
                                         root_cause="高峰时段窗口人员不足", on=on)


def deadline_of(complaint):
    return Deadline.objects.get(kind="complaint_answer", object_id=complaint.pk)


# --- the clock -----------------------------------------------------------------------------


def test_beijing_answer_on_the_third_working_day_is_on_time_and_on_the_fourth_late(
        chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    # received Thursday 2026-02-12: Fri 13th is day 1, Saturday 14th a make-up working day (调休) is
    # day 2, the Spring Festival holiday and the weekend (15th–23rd) do not count: Tue 24th is day 3
    first = register_bj(chaoyang_caseworker, chaoyang_person)
    assert first.answer_due == dt.date(2026, 2, 24)
    assert first.due_rule == "合同约定：3个工作日内答复"
    record = deadline_of(first)
    assert (record.due_date, record.working_days, record.role, record.met_on, record.area.code) == (
        dt.date(2026, 2, 24), True, "supervisor", None, "110105")
    first = answer(first, beijing_supervisor, dt.date(2026, 2, 24))
    assert first.on_time is True
    record = deadline_of(first)
    assert (record.met_on, record.state) == (dt.date(2026, 2, 24), "met")

    second = answer(register_bj(chaoyang_caseworker, chaoyang_person), beijing_supervisor, dt.date(2026, 2, 25))
    assert second.answer_due == dt.date(2026, 2, 24)
    assert second.on_time is False
    assert deadline_of(second).met_on == dt.date(2026, 2, 25)

    # KPIs over February: 2 complaints, 1 of 2 on time, answered in 3 and 4 working days
    args = (beijing(), None, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert registry.get("complaint_count").func(*args) == Decimal("2")
    assert registry.get("complaint_on_time_rate").func(*args) == Decimal("50.00")
    assert registry.get("complaint_answer_days_median").func(*args) == Decimal("3.5")
    # another area's codes: nothing
    other = (beijing(), ["150502"], dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert registry.get("complaint_count").func(*other) == Decimal("0")
    assert registry.get("complaint_on_time_rate").func(*other) is None
    assert registry.get("complaint_answer_days_median").func(*other) is None
    # the region's code brings its county
    assert registry.get("complaint_count").func(beijing(), ["110000"], *args[2:]) == Decimal("2")


def test_unanswered_overdue_complaint_counts_as_late(chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    answer(register_bj(chaoyang_caseworker, chaoyang_person), beijing_supervisor, dt.date(2026, 2, 13))
    register_bj(chaoyang_caseworker, chaoyang_person)  # due 02-24, never answered
    register_bj(chaoyang_caseworker, chaoyang_person, received_on=dt.date(2026, 2, 27))  # due in March
    args = (beijing(), None, dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert registry.get("complaint_count").func(*args) == Decimal("3")
    assert registry.get("complaint_on_time_rate").func(*args) == Decimal("50.00")
    assert registry.get("complaint_answer_days_median").func(*args) == Decimal("1")


def test_defaults_without_a_contract_clock_15_simple_30_complex_working_days(caseworker):
    horqin = Area.objects.get(code="150502")
    values = {"user": caseworker, "contract": tongliao(), "area": horqin, "channel": "phone", "category": "claim_time",
              "summary": "理赔太慢", "received_on": dt.date(2025, 9, 30), "complainant_name": "孙女士"}
    # National Day 10-01..10-08 off, Saturday 10-11 a make-up working day
    simple = services.complaint_register(complexity="simple", **values)
    assert (simple.answer_due, simple.due_rule) == (dt.date(2025, 10, 28), "简单投诉默认时限：15个工作日")
    complex_ = services.complaint_register(complexity="complex", **values)
    assert (complex_.answer_due, complex_.due_rule) == (dt.date(2025, 11, 18), "复杂投诉默认时限：30个工作日")
    # a supervisor's default is data
    terms = services.terms_for(tongliao())
    terms.simple_days = 10
    terms.save()
    assert services.complaint_register(complexity="simple", **values).answer_due == dt.date(2025, 10, 21)


# --- the transition table ---------------------------------------------------------------------


def test_every_transition_leaves_a_status_change_row(chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    complaint = register_bj(chaoyang_caseworker, chaoyang_person)
    complaint = services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, user=beijing_supervisor,
                                              assignee=beijing_supervisor)
    assert complaint.assigned_to == beijing_supervisor
    complaint = services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=beijing_supervisor,
                                              answer="已电话答复", root_cause="告知不清", on=dt.date(2026, 2, 13))
    complaint = services.complaint_transition(complaint=complaint, to=S.CLOSED, user=beijing_supervisor,
                                              rectification="窗口增设引导员", on=dt.date(2026, 2, 20), note="回访满意")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.answered_on, complaint.closed_on, complaint.rectification) == (
        "closed", dt.date(2026, 2, 13), dt.date(2026, 2, 20), "窗口增设引导员")
    rows = list(complaint.status_changes.values_list("from_status", "to_status", "by__username", "note"))
    assert rows == [("", "received", "cw_chaoyang", ""), ("received", "investigating", "sup_bj", ""),
                    ("investigating", "answered", "sup_bj", ""), ("answered", "closed", "sup_bj", "回访满意")]
    assert services.TRANSITIONS == {
        "received": {"investigating": services.MANAGE}, "investigating": {"answered": services.MANAGE},
        "answered": {"closed": services.MANAGE}, "closed": {},
    }


@pytest.mark.parametrize(("path", "to"), [
    ([], S.ANSWERED), ([], S.CLOSED), ([], S.RECEIVED),
    ([S.INVESTIGATING], S.CLOSED), ([S.INVESTIGATING], S.RECEIVED),
    ([S.INVESTIGATING, S.ANSWERED], S.INVESTIGATING), ([S.INVESTIGATING, S.ANSWERED], S.RECEIVED),
    ([S.INVESTIGATING, S.ANSWERED, S.CLOSED], S.ANSWERED), ([S.INVESTIGATING, S.ANSWERED, S.CLOSED], S.INVESTIGATING),
])
def test_transitions_outside_the_table_are_refused(chaoyang_caseworker, beijing_supervisor, chaoyang_person, path, to):
    complaint = register_bj(chaoyang_caseworker, chaoyang_person)
    steps = {S.INVESTIGATING: {"assignee": beijing_supervisor},
             S.ANSWERED: {"answer": "答复", "root_cause": "原因", "on": dt.date(2026, 2, 13)},
             S.CLOSED: {"rectification": "整改", "on": dt.date(2026, 2, 14)}}
    for step in path:
        complaint = services.complaint_transition(complaint=complaint, to=step, user=beijing_supervisor, **steps[step])
    before = ComplaintStatusChange.objects.count()
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=to, user=beijing_supervisor, answer="答复", root_cause="原因",
                                      rectification="整改", assignee=beijing_supervisor)
    assert refused.value.code == "transition"
    assert refused.value.messages == [f"处于“{S(complaint.status).label}”状态的投诉不能变为“{S(to).label}”。"]
    complaint.refresh_from_db()
    assert complaint.status == (path[-1] if path else S.RECEIVED)
    assert ComplaintStatusChange.objects.count() == before


def test_each_step_requires_what_it_records(chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    complaint = register_bj(chaoyang_caseworker, chaoyang_person)
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, user=beijing_supervisor)
    assert refused.value.messages == ["请先指定承办人。"]
    complaint = services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, user=beijing_supervisor,
                                              assignee=beijing_supervisor)
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=beijing_supervisor, answer="已答复")
    assert refused.value.messages == ["原因分析为必填项。"]
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=beijing_supervisor, root_cause="x")
    assert refused.value.messages == ["答复为必填项。"]
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=beijing_supervisor, answer="a",
                                      root_cause="b", on=dt.date(2026, 2, 11))
    assert refused.value.messages == ["答复日期不能早于收到投诉的日期（2026-02-12）。"]
    complaint = services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=beijing_supervisor, answer="a",
                                              root_cause="b", on=dt.date(2026, 2, 13))
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.CLOSED, user=beijing_supervisor, rectification="  ")
    assert refused.value.messages == ["整改措施为必填项。"]
    assert Complaint.objects.get(pk=complaint.pk).status == S.ANSWERED


def test_a_caseworker_registers_but_does_not_manage(chaoyang_caseworker, chaoyang_person):
    complaint = register_bj(chaoyang_caseworker, chaoyang_person)
    with pytest.raises(PermissionDenied):
        services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, user=chaoyang_caseworker,
                                      assignee=chaoyang_caseworker)
    with pytest.raises(PermissionDenied):
        services.complaint_assign(complaint=complaint, assignee=chaoyang_caseworker, user=chaoyang_caseworker)
    assert Complaint.objects.get(pk=complaint.pk).status == S.RECEIVED


# --- assignment --------------------------------------------------------------------------------


def test_a_complaint_about_a_staff_member_is_not_assigned_to_them(chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    colleague = UserFactory(username="sup_bj2", first_name="娄伟", role="supervisor", area_codes=["110000"])
    member = StaffMember.objects.create(contract=beijing(), area=Area.objects.get(code="110105"), name="娄伟",
                                        team_role="deputy", active_from=dt.date(2026, 1, 1), user=colleague)
    complaint = register_bj(chaoyang_caseworker, chaoyang_person, category="staff_conduct", about_staff=member)
    message = ["投诉涉及的工作人员（娄伟）不能承办针对本人的投诉。"]
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_assign(complaint=complaint, assignee=colleague, user=beijing_supervisor)
    assert refused.value.messages == message
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, user=beijing_supervisor, assignee=colleague)
    assert refused.value.messages == message
    complaint.refresh_from_db()
    assert (complaint.assigned_to, complaint.status) == (None, S.RECEIVED)
    # the page says so too, and the complaint stays unassigned
    from django.test import Client

    client = Client()
    client.force_login(beijing_supervisor)
    response = client.post(reverse("complaints:assign", args=[complaint.pk]), {"assignee": colleague.pk}, follow=True)
    assert message[0] in response.content.decode()
    assert Complaint.objects.get(pk=complaint.pk).assigned_to is None
    # someone else may take it
    assert services.complaint_assign(complaint=complaint, assignee=beijing_supervisor,
                                     user=beijing_supervisor).assigned_to == beijing_supervisor


def test_an_assignee_must_reach_the_complaints_area(chaoyang_caseworker, beijing_supervisor, taikang_supervisor,
                                                    chaoyang_person):
    complaint = register_bj(chaoyang_caseworker, chaoyang_person)
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_assign(complaint=complaint, assignee=taikang_supervisor, user=beijing_supervisor)
    assert refused.value.messages == ["太康主管 不能承办该区域的投诉。"]
    with pytest.raises(services.ComplaintRefused):  # no manage permission
        services.complaint_assign(complaint=complaint, assignee=chaoyang_caseworker, user=beijing_supervisor)


# --- registration ---------------------------------------------------------------------------------


def test_registration_is_refused_outside_the_users_areas(caseworker, caseworker_kailu, horqin_person):
    horqin = Area.objects.get(code="150502")
    values = {"contract": tongliao(), "area": horqin, "channel": "window", "category": "other", "complexity": "simple",
              "summary": "x", "received_on": dt.date(2025, 9, 1)}
    with pytest.raises(PermissionDenied):
        services.complaint_register(user=caseworker_kailu, complainant_name="某人", **values)
    with pytest.raises(PermissionDenied):  # a person of another county
        services.complaint_register(user=caseworker_kailu, **{**values, "area": Area.objects.get(code="150523")},
                                    complainant_person=horqin_person)
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_register(user=caseworker, **values)
    assert refused.value.messages == ["请填写投诉人：参保人或姓名。"]
    assert Complaint.objects.count() == 0


def test_register_page_creates_the_complaint_and_its_deadline(client, caseworker, horqin_person):
    client.force_login(caseworker)
    page = client.get(reverse("complaints:register"))
    assert page.status_code == 200 and "登记投诉" in page.content.decode()
    response = client.post(reverse("complaints:register"), {
        "contract": tongliao().pk, "area": Area.objects.get(code="150502").pk, "channel": "window",
        "category": "claim_time", "complexity": "simple", "received_on": "2025-09-30",
        "complainant_certno": horqin_person.certno, "summary": "理赔款迟迟未到账",
    })
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("complaints:detail", args=[complaint.pk])
    assert (complaint.complainant_person, complaint.answer_due, complaint.received_by) == (
        horqin_person, dt.date(2025, 10, 28), caseworker)
    assert complaint.complaint_no == f"TS2025{complaint.pk:06d}"
    assert deadline_of(complaint).due_date == dt.date(2025, 10, 28)
    # another county's area is not a choice
    response = client.post(reverse("complaints:register"), {
        "contract": tongliao().pk, "area": Area.objects.get(code="150523").pk, "channel": "window",
        "category": "other", "complexity": "simple", "received_on": "2025-09-30", "complainant_name": "某人",
        "summary": "x"})
    assert response.status_code == 200 and Complaint.objects.count() == 1


# --- pages and scoping -------------------------------------------------------------------------------


@pytest.fixture
def two_counties(caseworker, caseworker_kailu, horqin_person):
    horqin = services.complaint_register(
        user=caseworker, contract=tongliao(), area=Area.objects.get(code="150502"), channel="window",
        category="service_quality", complexity="simple", summary="科尔沁投诉", received_on=dt.date(2025, 9, 1),
        complainant_person=horqin_person, complainant_phone="13812345678")
    kailu = services.complaint_register(
        user=caseworker_kailu, contract=tongliao(), area=Area.objects.get(code="150523"), channel="phone",
        category="other", complexity="complex", summary="开鲁投诉", received_on=dt.date(2025, 9, 2),
        complainant_name="白音")
    return horqin, kailu


def table(response) -> str:
    body = response.content.decode()
    return body[body.index('<table class="grid" id="complaints">'):body.index("</table>")]


def test_list_filters_and_exports_stay_in_the_users_areas(client, caseworker_kailu, two_counties):
    horqin, kailu = two_counties
    client.force_login(caseworker_kailu)
    url = reverse("complaints:list")
    body = client.get(url).content.decode()
    assert kailu.complaint_no in body and horqin.complaint_no not in body
    for query in (f"?q={horqin.complaint_no}", f"?area={horqin.area_id}", "?status=received&overdue=true",
                  f"?area={horqin.area_id}&export=csv", f"?q={horqin.complaint_no}&export=xlsx"):
        response = client.get(url + query)
        assert response.status_code == 200
        if "export=csv" in query:
            text = response.content.decode("utf-8-sig")
            assert kailu.complaint_no in text and horqin.complaint_no not in text
            assert "白*" in text and "白音" not in text  # masked in files
        elif "export=xlsx" in query:
            import io

            import openpyxl

            cells = [str(v) for row in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
                     for v in row]
            assert horqin.complaint_no not in cells and kailu.complaint_no not in cells  # the number filter matches none
        else:
            assert horqin.complaint_no not in table(response)  # (the query itself is echoed in the form)
    # the area choice lists only the user's county
    assert "科尔沁区" not in client.get(url).content.decode()


def test_detail_and_actions_of_another_area_are_404_or_403(client, caseworker_kailu, supervisor, taikang_supervisor,
                                                           two_counties):
    horqin, _kailu = two_counties
    detail = reverse("complaints:detail", args=[horqin.pk])
    client.force_login(caseworker_kailu)
    assert client.get(detail).status_code == 404
    assert client.post(reverse("complaints:transition", args=[horqin.pk]), {"to": "investigating"}).status_code == 404
    assert client.post(reverse("complaints:assign", args=[horqin.pk]), {"assignee": caseworker_kailu.pk}).status_code == 403
    client.force_login(taikang_supervisor)
    assert client.get(detail).status_code == 404
    assert client.post(reverse("complaints:assign", args=[horqin.pk]), {"assignee": taikang_supervisor.pk}).status_code == 404
    assert client.post(reverse("complaints:transition", args=[horqin.pk]), {"to": "investigating"}).status_code == 404
    assert client.get(reverse("complaints:list")).content.decode().count("TS2025") == 0
    horqin.refresh_from_db()
    assert (horqin.status, horqin.assigned_to) == (S.RECEIVED, None)
    # the region's supervisor sees it, the complainant masked; the caseworker of the county in full
    client.force_login(supervisor)
    body = client.get(detail).content.decode()
    assert "包**" in body and "包宝山" not in body and "138****5678" in body and "13812345678" not in body
    assert "开始调查" in body and "分派" in body


def test_the_detail_page_walks_through_the_steps_in_chinese(client, supervisor, caseworker, two_counties):
    horqin, _ = two_counties
    client.force_login(caseworker)
    body = client.get(reverse("complaints:detail", args=[horqin.pk])).content.decode()
    assert "包宝山" in body and "开始调查" not in body  # no buttons without the permission
    client.force_login(supervisor)
    url = reverse("complaints:transition", args=[horqin.pk])
    detail = reverse("complaints:detail", args=[horqin.pk])
    response = client.post(url, {"to": "investigating"}, follow=True)
    assert "请先指定承办人。" in response.content.decode()
    client.post(reverse("complaints:assign", args=[horqin.pk]), {"assignee": supervisor.pk})
    client.post(url, {"to": "investigating"})
    body = client.get(detail).content.decode()
    assert "答复投诉" in body and "原因分析" in body
    client.post(url, {"to": "answered", "answer": "已答复", "root_cause": "材料审核积压", "on": "2025-09-05"})
    body = client.get(detail).content.decode()
    assert "整改完成并结案" in body and "按时答复" in body
    client.post(url, {"to": "closed", "rectification": "增加审核人员", "on": "2025-09-10"})
    horqin.refresh_from_db()
    assert (horqin.status, horqin.answered_on, horqin.closed_on) == (S.CLOSED, dt.date(2025, 9, 5), dt.date(2025, 9, 10))
    body = client.get(detail).content.decode()
    assert "已结案" in body and 'name="to"' not in body


# --- reopening (issue 21) ------------------------------------------------------------------------


def _closed_bj(caseworker, supervisor, person):
    complaint = register_bj(caseworker, person, received_on=dt.date(2026, 2, 9))
    assert complaint.answer_due == dt.date(2026, 2, 12)  # Mon 9th: Tue, Wed, Thu
    complaint = answer(complaint, supervisor, dt.date(2026, 2, 10))
    return services.complaint_transition(complaint=complaint, to=S.CLOSED, user=supervisor, rectification="窗口增设引导员",
                                         on=dt.date(2026, 2, 11))


def test_reopening_writes_the_row_and_a_new_clock_across_the_spring_festival(
        client, chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    complaint = _closed_bj(chaoyang_caseworker, beijing_supervisor, chaoyang_person)
    assert deadline_of(complaint).met_on == dt.date(2026, 2, 10)
    services.complaint_reopen(complaint=complaint, user=beijing_supervisor, reason="投诉人对答复不满意，再次来电",
                              on=dt.date(2026, 2, 12))
    complaint.refresh_from_db()
    # reopened Thursday 02-12: Fri 13th day 1, Saturday 14th a make-up working day day 2, the
    # Spring Festival holiday (15th–23rd) not counted: Tue 24th day 3
    assert (complaint.status, complaint.answer_due, complaint.answered_on, complaint.closed_on, complaint.due_rule) == (
        "investigating", dt.date(2026, 2, 24), None, None, "2026-02-12重新打开；合同约定：3个工作日内答复")
    row = complaint.status_changes.order_by("id").last()
    assert (row.from_status, row.to_status, row.by, row.note, timezone.localdate(row.at) == timezone.localdate()) == (
        "closed", "investigating", beijing_supervisor, "重新打开：投诉人对答复不满意，再次来电", True)
    record = deadline_of(complaint)
    assert (record.due_date, record.met_on, record.rule) == (dt.date(2026, 2, 24), None, complaint.due_rule)
    assert complaint.history.first().history_user == beijing_supervisor
    client.force_login(beijing_supervisor)
    body = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert "重新打开：投诉人对答复不满意，再次来电" in body and "2026-02-24" in body and 'id="reopen"' not in body
    assert 'id="outcome"' not in body  # the earlier answer is in the history, not shown as current
    # the new answer on the new clock's last day is on time
    complaint = services.complaint_transition(complaint=complaint, to=S.ANSWERED, user=beijing_supervisor, answer="再次答复",
                                              root_cause="解释不充分", on=dt.date(2026, 2, 24))
    assert complaint.on_time is True and deadline_of(complaint).met_on == dt.date(2026, 2, 24)
    # an answered complaint can be reopened too, through the page
    response = client.post(reverse("complaints:reopen", args=[complaint.pk]), {"reason": "仍不满意", "on": "2026-02-25"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    # Thu 26, Fri 27, Saturday 28 a make-up working day (调休)
    assert (complaint.status, complaint.answer_due) == ("investigating", dt.date(2026, 2, 28))
    assert services.TABLE["closed"] == {"investigating": services.MANAGE}
    assert services.TABLE["answered"] == {"closed": services.MANAGE, "investigating": services.MANAGE}


def test_a_non_supervisor_may_not_reopen(client, chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    complaint = _closed_bj(chaoyang_caseworker, beijing_supervisor, chaoyang_person)
    rows = ComplaintStatusChange.objects.count()
    with pytest.raises(PermissionDenied):
        services.complaint_reopen(complaint=complaint, user=chaoyang_caseworker, reason="再次投诉")
    client.force_login(chaoyang_caseworker)
    assert 'id="reopen"' not in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert client.post(reverse("complaints:reopen", args=[complaint.pk]), {"reason": "再次投诉"}).status_code == 403
    complaint.refresh_from_db()
    assert (complaint.status, complaint.answer_due, complaint.closed_on) == ("closed", dt.date(2026, 2, 12), dt.date(2026, 2, 11))
    assert ComplaintStatusChange.objects.count() == rows


@pytest.mark.parametrize("path", [[], [S.INVESTIGATING]])
def test_reopening_an_open_complaint_is_refused(client, chaoyang_caseworker, beijing_supervisor, chaoyang_person, path):
    complaint = register_bj(chaoyang_caseworker, chaoyang_person)
    for step in path:
        complaint = services.complaint_transition(complaint=complaint, to=step, user=beijing_supervisor,
                                                  assignee=beijing_supervisor)
    rows = ComplaintStatusChange.objects.count()
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_reopen(complaint=complaint, user=beijing_supervisor, reason="再次投诉")
    assert refused.value.code == "transition"
    assert refused.value.messages == [f"只有已答复或已办结的投诉可以重新打开，该投诉当前为“{S(complaint.status).label}”。"]
    client.force_login(beijing_supervisor)
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert 'id="reopen"' not in page
    client.post(reverse("complaints:reopen", args=[complaint.pk]), {"reason": "再次投诉"})
    complaint.refresh_from_db()
    assert (complaint.status, complaint.answer_due) == (path[-1] if path else S.RECEIVED, dt.date(2026, 2, 24))
    assert ComplaintStatusChange.objects.count() == rows


def test_a_reopening_needs_its_reason(client, chaoyang_caseworker, beijing_supervisor, chaoyang_person):
    complaint = _closed_bj(chaoyang_caseworker, beijing_supervisor, chaoyang_person)
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_reopen(complaint=complaint, user=beijing_supervisor, reason="  ")
    assert refused.value.messages == ["重新打开的原因为必填项。"]
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_reopen(complaint=complaint, user=beijing_supervisor, reason="x", on=dt.date(2026, 2, 10))
    assert refused.value.messages == ["重新打开的日期不能早于该投诉上一步办理的日期（2026-02-11）。"]
    assert Complaint.objects.get(pk=complaint.pk).status == S.CLOSED


# --- the supervisor's default answer times (issue 21) ------------------------------------------------


def _terms_state(code="tongliao-2025"):
    terms = services.terms_for(Contract.objects.get(code=code))
    return terms.simple_days, terms.complex_days, terms.answer_days, terms.history.count()


def test_a_supervisor_sets_the_default_answer_times(client, supervisor, caseworker):
    client.force_login(supervisor)
    page = client.get(reverse("complaints:defaults"))
    body = page.content.decode()
    assert page.status_code == 200 and "投诉默认答复时限" in body
    assert "通辽市2025年度城乡居民大病医疗保险服务项目协议书" in body or Contract.objects.get(code="tongliao-2025").name in body
    assert Contract.objects.get(code="beijing-chaoyang-2026").name not in body  # not this supervisor's region
    assert "tongliao-2025-simple_days" in body and ">tongliao-2025<" not in body
    simple, complex_, answer_days, versions = _terms_state()
    assert (simple, complex_) == (15, 30)
    response = client.post(reverse("complaints:defaults_edit", args=["tongliao-2025"]),
                           {"tongliao-2025-simple_days": "10", "tongliao-2025-complex_days": "20"})
    assert (response.status_code, response.url) == (302, reverse("complaints:defaults"))
    assert _terms_state() == (10, 20, answer_days, versions + 1)
    terms = services.terms_for(Contract.objects.get(code="tongliao-2025"))
    assert terms.history.first().history_user == supervisor  # audited: who changed it
    assert terms.history.first().history_change_reason == "主管设置默认答复时限"
    values = {"user": caseworker, "contract": Contract.objects.get(code="tongliao-2025"),
              "area": Area.objects.get(code="150502"), "channel": "phone", "category": "claim_time", "summary": "理赔太慢",
              "received_on": dt.date(2025, 9, 30), "complainant_name": "孙女士"}
    assert services.complaint_register(complexity="simple", **values).answer_due == dt.date(2025, 10, 21)
    # another region's contract is not found
    assert client.post(reverse("complaints:defaults_edit", args=["beijing-chaoyang-2026"]),
                       {"beijing-chaoyang-2026-simple_days": "5", "beijing-chaoyang-2026-complex_days": "5"}).status_code == 404
    assert _terms_state("beijing-chaoyang-2026")[:2] == (15, 30)


def test_a_caseworker_may_not_set_the_default_answer_times(client, caseworker):
    before = _terms_state()
    client.force_login(caseworker)
    assert client.get(reverse("complaints:defaults")).status_code == 403
    response = client.post(reverse("complaints:defaults_edit", args=["tongliao-2025"]),
                           {"tongliao-2025-simple_days": "10", "tongliao-2025-complex_days": "20"})
    assert response.status_code == 403
    assert _terms_state() == before
    with pytest.raises(PermissionDenied):
        services.complaint_defaults_set(terms=services.terms_for(tongliao()), user=caseworker, simple_days=10, complex_days=20)
    assert _terms_state() == before


@pytest.mark.parametrize(("simple", "complex_", "errors"), [
    ("0", "30", ["简单投诉默认时限（工作日）：请输入1至365之间的整数个工作日。"]),
    ("1.5", "30", ["简单投诉默认时限（工作日）：请输入1至365之间的整数个工作日。"]),
    ("15", "-3", ["复杂投诉默认时限（工作日）：请输入1至365之间的整数个工作日。"]),
    ("15", "366", ["复杂投诉默认时限（工作日）：请输入1至365之间的整数个工作日。"]),
    ("十", "", ["简单投诉默认时限（工作日）：请输入1至365之间的整数个工作日。", "复杂投诉默认时限（工作日）：这个字段是必填项。"]),
])
def test_bad_default_answer_times_are_refused_and_nothing_changes(client, supervisor, simple, complex_, errors):
    before = _terms_state()
    client.force_login(supervisor)
    response = client.post(reverse("complaints:defaults_edit", args=["tongliao-2025"]),
                           {"tongliao-2025-simple_days": simple, "tongliao-2025-complex_days": complex_})
    assert response.status_code == 400
    form = next(f for t, f in response.context["rows"] if t.contract.code == "tongliao-2025")
    assert [e for field in ("simple_days", "complex_days") for e in form.errors.get(field, [])] == errors
    body = response.content.decode()
    assert all(e in body for e in errors)
    assert _terms_state() == before
    with pytest.raises(services.ComplaintRefused) as refused:
        services.complaint_defaults_set(terms=services.terms_for(tongliao()), user=supervisor, simple_days=0, complex_days=30)
    assert refused.value.message_dict == {"simple_days": ["简单投诉默认时限（工作日）：请输入1至365之间的整数个工作日。"]}
    assert _terms_state() == before


def test_the_list_names_the_complaint_category_and_offers_all_not_dashes(client, supervisor):
    """The complaint's category is a kind of complaint, not the person's category (人员类别), and
    every filter's "any" choice reads 全部."""
    client.force_login(supervisor)
    page = client.get(reverse("complaints:list")).content.decode()
    assert page.count("投诉类别") == 2  # the filter's label and the column's header
    assert "---------" not in page and '<option value="" selected>全部</option>' in page
