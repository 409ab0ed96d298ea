import pytest
from django.urls import reverse

from programs.models import Enrollment
from tests.factories import EnrollmentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_caseworker_lands_on_the_chinese_workbench_after_login(client, caseworker):
    response = client.post(reverse("login"), {"username": "cw_horqin", "password": "pw-12345"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("home")
    body = response.content.decode()
    assert '<html lang="zh-CN">' in body
    assert "经办工作台" in body and "查询范围： 科尔沁区" in body
    assert "通辽市2025年度城乡居民大病医疗保险服务项目协议书" in body  # default year: the newest contract year


def test_search_by_id_number_opens_the_person_with_the_enrollment_of_the_year(client, caseworker, horqin_person):
    client.force_login(caseworker)
    response = client.get(reverse("home"), {"q": horqin_person.certno.lower(), "year": 2025})
    assert response.status_code == 302 and response.url == f"/persons/{horqin_person.pk}/?year=2025"
    body = client.get(response.url).content.decode()
    assert "2025年度已参保" in body and "通辽市城乡居民大病保险 · 科尔沁区 · 普通人员" in body


def test_search_by_name_prefix_and_person_number(client, caseworker, horqin_person):
    client.force_login(caseworker)
    assert "包宝山" in client.get(reverse("home"), {"q": "包宝", "year": 2025}).content.decode()
    assert "包宝山" in client.get(reverse("home"), {"q": horqin_person.psn_no, "year": 2025}, follow=True).content.decode()


def test_not_found_message(client, caseworker):
    client.force_login(caseworker)
    body = client.get(reverse("home"), {"q": "11010519491231002X", "year": 2025}).content.decode()
    assert "在您负责的区域内未找到“11010519491231002X”对应的参保人。" in body


def test_invalid_id_number_is_pointed_out(client, caseworker):
    client.force_login(caseworker)
    body = client.get(reverse("home"), {"q": "110105194912310021"}).content.decode()
    assert "注意：输入的身份证号不合法： 身份证号校验位错误。" in body


def test_not_enrolled_in_the_chosen_year(client, caseworker, horqin_person):
    client.force_login(caseworker)
    body = client.get(reverse("home"), {"q": horqin_person.certno, "year": 2026}, follow=True).content.decode()
    assert "2026年度未参保" in body
    body = client.get(reverse("person_detail", args=[horqin_person.pk]), {"year": 2026}).content.decode()
    assert "2026年度未参保" in body and "tongliao-2025" in body


def test_a_cancelled_policy_is_not_an_enrollment(client, caseworker):
    person = EnrollmentFactory(person=PersonFactory(name="那日苏"), status=Enrollment.Status.CANCELLED).person
    client.force_login(caseworker)
    body = client.get(reverse("home"), {"q": person.certno, "year": 2025}, follow=True).content.decode()
    assert "2025年度未参保" in body


def test_english_is_selectable(client, caseworker, horqin_person):
    client.force_login(caseworker)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    body = client.get(reverse("home"), {"q": horqin_person.certno, "year": 2025}, follow=True).content.decode()
    assert "Enrolled in 2025" in body and "Workbench" in body


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_finance_cannot_open_person_pages_without_the_permission(client, horqin_person):
    from tests.factories import UserFactory

    outsider = UserFactory(area_codes=["150502"])  # no role at all
    client.force_login(outsider)
    assert client.get(reverse("person_detail", args=[horqin_person.pk])).status_code == 403


def test_the_programs_search_page_knows_nothing_of_supervision(rf, supervisor):
    """The supervisor's redirect to the dashboard is decided by the home page
    (insurance_admin.workbench), not by programs: its view renders the search for anyone."""
    from programs import views as program_views

    request = rf.get("/")
    request.user = supervisor
    response = program_views.workbench(request)
    assert response.status_code == 200
    assert "supervision" not in open(program_views.__file__, encoding="utf-8").read()
