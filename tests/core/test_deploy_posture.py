"""Deployment posture (issue 17): a Content-Security-Policy, no-store for signed-in pages, an idle
timeout, HSTS from the environment with a clean `check --deploy`, and X-Frame-Options DENY on
every response (the admin changelist included)."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.urls import reverse

from insurance_admin.core import middleware
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root_posture", is_superuser=True, is_staff=True))
    return client


def _nonce(response) -> str:
    policy = response["Content-Security-Policy"]
    return re.search(r"'nonce-([^']+)'", policy).group(1)


def test_pages_carry_a_strict_content_security_policy_and_inline_scripts_its_nonce(client, caseworker, horqin_person):
    client.force_login(caseworker)
    url = reverse("claim_register", args=[horqin_person.pk, "tongliao-2025"])
    response = client.get(url)
    assert response.status_code == 200
    policy = dict(
        (d.split(" ", 1) + [""])[:2] for d in (p.strip() for p in response["Content-Security-Policy"].split(";")) if d
    )
    nonce = _nonce(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == f"'self' 'nonce-{nonce}'"
    assert policy["style-src"] == f"'self' 'nonce-{nonce}'"
    assert (policy["object-src"], policy["frame-ancestors"], policy["form-action"]) == ("'none'", "'none'", "'self'")
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    inline = [attrs for attrs in scripts if "src=" not in attrs and "application/json" not in attrs]
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert not re.search(r"\son[a-z]+=\"", html)  # no inline event handlers
    assert _nonce(client.get(url)) != nonce  # a fresh nonce per response


def test_the_admin_gets_its_own_policy_for_unfold(admin_client):
    response = admin_client.get(reverse("admin:claims_claim_changelist"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert re.search(r"script-src 'self'( 'nonce-[^']+')? 'unsafe-eval';", policy)
    assert "style-src 'self' 'unsafe-inline'" in policy and "default-src 'self'" in policy


@pytest.mark.parametrize("url", ["admin:claims_claim_changelist", "admin:index", "home", "login"])
def test_every_response_forbids_framing(admin_client, url):
    assert admin_client.get(reverse(url))["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("url", ["home", "claim_deadlines", "admin:claims_claim_changelist"])
def test_signed_in_pages_are_never_stored(admin_client, url):
    response = admin_client.get(reverse(url))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store, private"


def test_static_files_keep_their_caching(admin_client):
    static = admin_client.get("/static/css/app.css")
    assert static.status_code == 200 and "no-store" not in (static.get("Cache-Control") or "")


def test_a_signed_in_pdf_is_never_stored(client, db):
    from tests.claims.test_slip import ZHENPING_RECORD, _approved_claim, _person

    caseworker = UserFactory(username="cw_cache", role="caseworker", area_codes=["411324"])
    reviewer = UserFactory(username="rv_cache", role="reviewer", area_codes=["411300"])
    claim = _approved_claim(_person("zhenping-2026", "411324", "李建国"), "zhenping-2026", "411324", caseworker, reviewer,
                            [ZHENPING_RECORD])
    client.force_login(caseworker)
    response = client.get(reverse("claim_slip", args=[claim.pk]))
    assert response["Content-Type"] == "application/pdf" and response["Cache-Control"] == "no-store, private"


def test_an_idle_session_is_signed_out_with_a_message_and_activity_keeps_it(client, db, monkeypatch, settings):
    settings.SESSION_IDLE_TIMEOUT = 900
    clock = [1_800_000_000.0]
    monkeypatch.setattr(middleware.time, "time", lambda: clock[0])
    client.force_login(UserFactory(username="cw_idle", role="caseworker", area_codes=["150502"]))
    assert client.get(reverse("home")).status_code == 200
    for _ in range(3):  # a request every 14 minutes keeps the session alive
        clock[0] += 14 * 60
        assert client.get(reverse("claim_list")).status_code == 200
    clock[0] += 15 * 60 + 1
    response = client.get(reverse("claim_list") + "?status=approved")
    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=/claims/%3Fstatus%3Dapproved"
    page = client.get(response["Location"])
    assert "您已 15 分钟未操作，系统已自动退出登录，请重新登录。" in page.content.decode()
    assert client.get(reverse("claim_list")).status_code == 302  # signed out for good
    assert "_auth_user_id" not in client.session


def test_the_idle_timeout_comes_from_the_environment():
    assert settings.SESSION_IDLE_TIMEOUT == int(os.environ.get("SESSION_IDLE_TIMEOUT", 900))
    assert settings.SESSION_COOKIE_AGE == int(os.environ.get("SESSION_COOKIE_AGE", 8 * 3600))  # the absolute limit stays


def test_the_deploy_check_is_clean_in_a_production_like_environment(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SESSION_"))},
        "DJANGO_SETTINGS_MODULE": "insurance_admin.settings.base",
        "INSURANCE_ADMIN_VAR_DIR": str(tmp_path),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "ybj.example.cn",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_SECURE_COOKIES": "true",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        "DJANGO_SECURE_HSTS_SECONDS": "31536000",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "DJANGO_SECURE_HSTS_PRELOAD": "true",
    }
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "System check identified no issues" in result.stdout
    # and without HSTS the same check warns (W004): the variable is what makes it clean
    env.pop("DJANGO_SECURE_HSTS_SECONDS")
    warned = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert warned.returncode == 1 and "security.W004" in warned.stderr + warned.stdout
