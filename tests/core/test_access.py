from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.urls import reverse

from insurance_admin.accounts.roles import ROLE_PERMISSIONS
from insurance_admin.core.management.commands.permission_matrix import matrix_markdown

pytestmark = pytest.mark.django_db


def test_role_groups_hold_exactly_the_matrix():
    for role, codes in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(codes), role


def test_only_window_roles_see_full_identities():
    full = {g.name for g in Group.objects.filter(permissions__codename="view_full_identity")}
    assert full == {"caseworker", "reviewer"}


def test_readme_shows_the_current_permission_matrix():
    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text(encoding="utf-8")
    assert matrix_markdown() in readme


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_login_is_locked_after_five_failures_even_with_the_right_password(client, caseworker):
    from axes.utils import reset

    reset()
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "cw_horqin", "password": "wrong"})
    assert response.status_code == 429
    response = client.post(reverse("login"), {"username": "cw_horqin", "password": "pw-12345"})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    reset()
    response = client.post(reverse("login"), {"username": "cw_horqin", "password": "pw-12345"})
    assert response.status_code == 302


def test_translations_are_compiled_and_complete():
    import gettext

    import polib

    root = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"
    po = polib.pofile(str(root / "django.po"))
    assert not po.untranslated_entries()
    mo = gettext.GNUTranslations(open(root / "django.mo", "rb"))
    def compiled(e):
        return mo.pgettext(e.msgctxt, e.msgid) if e.msgctxt else mo.gettext(e.msgid)

    stale = [e.msgid for e in po.translated_entries() if not e.msgid_plural and compiled(e) != e.msgstr]
    assert stale == [], "django.mo is older than django.po: run make messages"


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
