"""Pages every role meets: the navigation, and refusals in Chinese inside the site's frame."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("role", "linked"), [("caseworker", True), ("supervisor", True), ("administrator", True),
                                              ("reviewer", False), ("finance", False)])
def test_the_enrollment_list_imports_are_in_the_navigation_of_the_roles_that_have_them(client, role, linked):
    user = UserFactory(username=f"nav_{role}", role=role, area_codes=["150500"])
    client.force_login(user)
    body = client.get(reverse("home"), follow=True).text  # a supervisor lands on the dashboard
    assert (f'<a href="{reverse("import_batch_list")}">参保名单导入</a>' in body) is linked
    assert (client.get(reverse("import_batch_list")).status_code == 200) is linked


def test_a_refused_page_says_so_in_chinese_with_the_way_back(client, caseworker):
    client.force_login(caseworker)
    response = client.get(reverse("finance:dashboard"))
    assert response.status_code == 403
    assert "无权访问" in response.text and "请联系系统管理员调整您的角色或区域" in response.text
    assert f'<a href="{reverse("home")}">返回经办工作台</a>' in response.text
    assert "经办工作台" in response.text and "科尔沁区经办员" in response.text  # the site's own header


def test_a_missing_record_says_so_in_chinese(client, caseworker):
    client.force_login(caseworker)
    response = client.get(reverse("claim_detail", args=[999_999]))
    assert response.status_code == 404
    assert "未找到" in response.text and "不在您负责的区域内" in response.text


def test_the_user_list_names_roles_in_chinese(client):
    admin = UserFactory(username="useradmin", role="administrator", area_codes=["150500"], is_staff=True)
    UserFactory(username="cw_listed", role="caseworker", area_codes=["150502"])
    client.force_login(admin)
    body = client.get(reverse("admin:accounts_user_changelist")).text
    assert "cw_listed" in body and "经办员" in body
    assert ">caseworker<" not in body
    # the admin theme's own words, which its package leaves untranslated
    assert "搜索应用和数据表" in body and "Search apps and models" not in body


def test_the_server_error_page_is_styled_without_inline_style_the_csp_would_block(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500 and "系统错误" in body
    assert "<style" not in body and 'href="/static/css/error.css"' in body
