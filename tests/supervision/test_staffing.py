"""Staffing: the roster against each contract's commitments on a date, exactly; the first
contact's replacement notice; the roster page and its scoping; the KPI."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from insurance_admin.kpis import registry
from insurance_admin.staffing.models import StaffingCommitment, StaffMember
from insurance_admin.staffing.selectors import staffing_shortfalls
from programs.models import Area, Contract

pytestmark = pytest.mark.django_db


def member(contract, area_code, name, **kw):
    values = {"team_role": "window", "full_time": True, "at_window": True, "medical_background": False,
              "active_from": dt.date(2025, 1, 1)}
    values.update(kw)
    return StaffMember.objects.create(contract=Contract.objects.get(code=contract), area=Area.objects.get(code=area_code),
                                      name=name, **values)


def keys(shortfalls):
    return [s.key for s in shortfalls]


def test_seeded_commitments_quote_the_contracts():
    rows = {c.contract.code: c for c in StaffingCommitment.objects.select_related("contract")}
    assert (rows["tongliao-2025"].min_medical, rows["tongliao-2025"].min_fulltime_per_window,
            rows["tongliao-2025"].max_fulltime_per_window, rows["tongliao-2025"].min_total) == (10, 1, 3, None)
    assert rows["zhenping-2026"].min_total == 3
    assert rows["beijing-chaoyang-2026"].team_roles == ["leader", "deputy", "underwriting_a", "underwriting_b",
                                                        "claims_a", "claims_b"]
    assert (rows["beijing-chaoyang-2026"].first_contact_role, rows["beijing-chaoyang-2026"].notice_days) == ("leader", 14)
    assert (rows["taikang-2025"].min_total, rows["taikang-2025"].min_medical, rows["taikang-2025"].team_roles) == (None, None, [])


@pytest.fixture
def tongliao_roster():
    # 科尔沁区 2 (both medical), 开鲁县 4 (3 medical: one too many at the window), 库伦旗 none,
    # 奈曼旗 one part-timer only, the other five counties one full-timer each (3 medical)
    member("tongliao-2025", "150502", "甲一", medical_background=True)
    member("tongliao-2025", "150502", "甲二", medical_background=True)
    for i in range(4):
        member("tongliao-2025", "150523", f"乙{i}", medical_background=i < 3)
    member("tongliao-2025", "150525", "丙一", full_time=False, medical_background=True)
    for i, code in enumerate(["150521", "150522", "150526", "150571", "150581"]):
        member("tongliao-2025", code, f"丁{i}", medical_background=i < 2)
    # left before the date asked about, and starting after it: neither counts
    member("tongliao-2025", "150524", "已离职", medical_background=True, active_to=dt.date(2025, 5, 31))
    member("tongliao-2025", "150524", "未到岗", medical_background=True, active_from=dt.date(2025, 7, 1))


def test_tongliao_shortfalls_on_a_date(tongliao_roster):
    contract = Contract.objects.get(code="tongliao-2025")
    found = staffing_shortfalls(contract, dt.date(2025, 6, 30))
    # medical: 2 + 3 + 1 + 2 = 8 of 10
    assert keys(found) == [("medical", None, 10, 8), ("window_above", "150523", 3, 4), ("window_below", "150524", 1, 0),
                           ("window_below", "150525", 1, 0)]
    assert [s.text for s in found] == [
        "医学相关背景 8 人，合同要求不少于 10 人。",
        "开鲁县：窗口专职人员 4 名，合同约定最多 3 名。",
        "库伦旗：窗口专职人员 0 名，合同要求不少于 1 名。",
        "奈曼旗：窗口专职人员 0 名，合同要求不少于 1 名。",
    ]
    # from 07-01 库伦旗's new member is there (medical: 9)
    assert keys(staffing_shortfalls(contract, dt.date(2025, 7, 1))) == [
        ("medical", None, 10, 9), ("window_above", "150523", 3, 4), ("window_below", "150525", 1, 0)]
    # a county's view: its own window only, no contract-wide figure
    kailu = Area.objects.get(code="150523")
    assert keys(staffing_shortfalls(contract, dt.date(2025, 6, 30), area_ids={kailu.pk})) == [
        ("window_above", "150523", 3, 4)]
    # the KPI counts the shortfalls at the end of the period, in the areas asked for
    kpi = registry.get("staffing_shortfalls").func
    assert kpi(contract, None, dt.date(2025, 1, 1), dt.date(2025, 6, 30)) == Decimal("4")
    assert kpi(contract, ["150523"], dt.date(2025, 1, 1), dt.date(2025, 6, 30)) == Decimal("1")
    assert kpi(contract, ["150500"], dt.date(2025, 1, 1), dt.date(2025, 6, 30)) == Decimal("4")


def test_zhenping_needs_three_joint_office_staff():
    contract = Contract.objects.get(code="zhenping-2026")
    member("zhenping-2026", "411324", "镇一", active_from=dt.date(2026, 1, 1))
    member("zhenping-2026", "411324", "镇二", active_from=dt.date(2026, 1, 1))
    assert keys(staffing_shortfalls(contract, dt.date(2026, 3, 1))) == [("total", None, 3, 2)]
    member("zhenping-2026", "411324", "镇三", active_from=dt.date(2026, 3, 1))
    assert staffing_shortfalls(contract, dt.date(2026, 3, 1)) == []


@pytest.fixture
def beijing_team():
    old = member("beijing-chaoyang-2026", "110105", "王磊", team_role="leader", active_from=dt.date(2026, 1, 1),
                 active_to=dt.date(2026, 3, 31))
    for role, name in (("deputy", "娄伟"), ("underwriting_a", "吴晓倩"), ("underwriting_b", "姬生朋"), ("claims_a", "郑佳琪")):
        member("beijing-chaoyang-2026", "110105", name, team_role=role, active_from=dt.date(2026, 1, 1))
    # the new leader (first contact) announced on 03-25 for 04-01: 7 days' notice of the 14 required
    new = member("beijing-chaoyang-2026", "110105", "张新", team_role="leader", active_from=dt.date(2026, 4, 1),
                 replaces=old, notice_given_on=dt.date(2026, 3, 25))
    return old, new


def test_beijing_named_team_and_the_first_contacts_notice(beijing_team):
    _old, new = beijing_team
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    assert keys(staffing_shortfalls(contract, dt.date(2026, 3, 1))) == [("role_missing", None, 1, 0)]
    found = staffing_shortfalls(contract, dt.date(2026, 4, 10))
    assert keys(found) == [("role_missing", None, 1, 0), ("notice_short", None, 14, 7)]
    assert [s.text for s in found] == ["理赔B岗 岗位无人在岗。",
                                       "张新 于 2026-04-01 接替第一联系人，仅提前 7 天通知，合同要求提前 14 天。"]
    # two weeks' notice exactly is enough
    new.notice_given_on = dt.date(2026, 3, 18)
    new.save()
    assert keys(staffing_shortfalls(contract, dt.date(2026, 4, 10))) == [("role_missing", None, 1, 0)]


def test_roster_page_shows_shortfalls_and_flags_the_short_notice(client, beijing_team):
    from tests.factories import UserFactory

    supervisor = UserFactory(username="sup_bj", role="supervisor", area_codes=["110000"])
    client.force_login(supervisor)
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    response = client.get(reverse("staffing:roster"), {"contract": contract.pk, "on": "2026-04-10"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "理赔B岗 岗位无人在岗。" in body and "仅提前 7 天通知" in body
    assert body.count("更换未按约提前通知") == 1 and "张新" in body and "王磊" not in body  # the old leader left 03-31


def test_roster_page_is_scoped_to_the_users_areas(client, supervisor, taikang_supervisor_roster, tongliao_roster):
    """A Taikang supervisor asking for Tongliao's roster gets their own contract; a caseworker has no roster page."""
    tongliao = Contract.objects.get(code="tongliao-2025")
    client.force_login(taikang_supervisor_roster)
    body = client.get(reverse("staffing:roster"), {"contract": tongliao.pk, "on": "2025-06-30"}).content.decode()
    assert "甲一" not in body and "开鲁县" not in body and "医学相关背景 8 人" not in body and "太康" in body
    client.force_login(supervisor)
    body = client.get(reverse("staffing:roster"), {"contract": tongliao.pk, "on": "2025-06-30"}).content.decode()
    assert "甲一" in body and "开鲁县：窗口专职人员 4 名" in body


def test_caseworkers_have_no_roster_page(client, caseworker):
    client.force_login(caseworker)
    assert client.get(reverse("staffing:roster")).status_code == 403


@pytest.fixture
def taikang_supervisor_roster(db):
    from tests.factories import UserFactory

    return UserFactory(username="sup_tk", role="supervisor", area_codes=["411600"])


def test_the_roster_heads_its_dates_as_dates_not_as_status_changes(client, beijing_team):
    """'from'/'to' are the status-change columns' words (原状态/新状态) elsewhere."""
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="sup_bj2", role="supervisor", area_codes=["110000"]))
    contract = Contract.objects.get(code="beijing-chaoyang-2026")
    body = client.get(reverse("staffing:roster"), {"contract": contract.pk, "on": "2026-04-10"}).content.decode()
    assert "<th>在岗起始日期</th><th>在岗截止日期</th>" in body and "原状态" not in body and "新状态" not in body
