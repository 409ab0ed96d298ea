import pytest
from django.urls import reverse

from programs.models import Enrollment, InsuredPerson

pytestmark = pytest.mark.django_db


def _admin_change_person(client, person, **changes):
    enrollment = person.enrollments.get()
    data = {
        "certno": person.certno,
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "psn_no": person.psn_no,
        "phone": "",
        "enrollments-TOTAL_FORMS": "1",
        "enrollments-INITIAL_FORMS": "1",
        "enrollments-MIN_NUM_FORMS": "0",
        "enrollments-MAX_NUM_FORMS": "1000",
        "enrollments-0-id": enrollment.pk,
        "enrollments-0-person": person.pk,
        "enrollments-0-contract": enrollment.contract_id,
        "enrollments-0-area": enrollment.area_id,
        "enrollments-0-category": enrollment.category,
        "enrollments-0-employment": enrollment.employment,
        "enrollments-0-health": enrollment.health,
        "enrollments-0-status": enrollment.status,
        "enrollments-0-source": enrollment.source,
        "enrollments-0-enrolled_from": enrollment.enrolled_from.isoformat(),
        "enrollments-0-enrolled_to": "",
        "_save": "Save",
    }
    data.update(changes)
    return client.post(reverse("admin:programs_insuredperson_change", args=[person.pk]), data)


def test_an_admin_change_is_audited_with_who_before_and_after(client, caseworker, horqin_person):
    client.force_login(caseworker)
    response = _admin_change_person(client, horqin_person, phone="13800000000", **{"enrollments-0-category": "special"})
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    latest = horqin_person.history.latest()
    assert (latest.history_type, latest.history_user, latest.phone) == ("~", caseworker, "13800000000")
    assert latest.prev_record.phone == ""
    enrollment_latest = Enrollment.history.filter(id=horqin_person.enrollments.get().pk).latest()
    assert (enrollment_latest.history_user, enrollment_latest.category) == (caseworker, "special")


def test_supervisor_reads_the_masked_audit_trail(client, caseworker, supervisor, horqin_person):
    client.force_login(caseworker)
    _admin_change_person(client, horqin_person, name="包宝森")
    client.force_login(supervisor)
    body = client.get(reverse("audit_log"), {"trail": "person"}).content.decode()
    assert "科尔沁区经办员" in body  # who
    assert "修改" in body and "姓名" in body
    assert "包**" in body and "包宝森" not in body and "包宝山" not in body  # before/after, masked
    assert horqin_person.certno not in body
    body = client.get(reverse("audit_log"), {"trail": "enrollment"}).content.decode()
    assert "新增" in body


def test_full_identity_roles_see_the_names_in_the_person_history(client, caseworker, horqin_person):
    from django.contrib.auth.models import Permission

    client.force_login(caseworker)
    _admin_change_person(client, horqin_person, name="包宝森")
    caseworker.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    caseworker = type(caseworker).objects.get(pk=caseworker.pk)
    client.force_login(caseworker)
    body = client.get(reverse("person_detail", args=[horqin_person.pk])).content.decode()
    assert "修改记录" in body
    assert '<td class="old">包宝山</td><td class="new">包宝森</td>' in body


def test_caseworker_cannot_read_the_audit_trail(client, caseworker):
    client.force_login(caseworker)
    assert client.get(reverse("audit_log")).status_code == 403


def test_audit_trail_is_scoped_to_the_supervisors_areas(client, horqin_person):
    from tests.factories import UserFactory

    taikang_supervisor = UserFactory(role="supervisor", area_codes=["411627"])
    client.force_login(taikang_supervisor)
    body = client.get(reverse("audit_log"), {"trail": "person"}).content.decode()
    assert "包**" not in body
    assert InsuredPerson.history.count() == 1


def test_contract_changes_are_audited(client, horqin_person):
    from programs.models import Contract
    from tests.factories import UserFactory

    admin_user = UserFactory(role="administrator", area_codes=["150500"])
    contract = Contract.objects.get(code="tongliao-2025")
    contract.headcount_final = 2217300
    contract._history_user = admin_user
    contract.save()
    record = contract.history.latest()
    delta = record.diff_against(record.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("headcount_final", None, 2217300)]
    sup = UserFactory(role="supervisor", area_codes=["150500"])
    client.force_login(sup)
    body = client.get(reverse("audit_log"), {"trail": "contract"}).content.decode()
    assert "最终参保人数" in body and "2217300" in body


def test_audit_trail_shows_labels_not_codes(client, caseworker, supervisor, horqin_person):
    client.force_login(caseworker)
    _admin_change_person(client, horqin_person, **{"enrollments-0-category": "special"})
    client.force_login(supervisor)
    body = client.get(reverse("audit_log"), {"trail": "enrollment"}).content.decode()
    assert '<td class="old">普通人员</td><td class="new">特殊人群</td>' in body
    body = client.get(reverse("audit_log"), {"trail": "contract"}).content.decode()
    # contract titles and parties are not personal data: shown in full, by name
    assert "通辽市2025年度城乡居民大病医疗保险服务项目协议书" in body
    assert "中国人民财产保险股份有限公司通辽市分公司" in body
    assert "初始协议数据（种子合同）" in body


def test_phone_numbers_are_masked_in_the_audit_trail_like_the_other_identities(client, caseworker, supervisor,
                                                                                 horqin_person):
    client.force_login(caseworker)
    _admin_change_person(client, horqin_person, phone="13911112222")
    client.force_login(supervisor)
    body = client.get(reverse("audit_log"), {"trail": "person"}).content.decode()
    assert "手机号" in body and "139****2222" in body
    assert "13911112222" not in body
