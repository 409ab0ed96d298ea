"""The Content-Security-Policy in a real browser: the site's pages and django-unfold's admin load
and work with no violation in Chromium's console (inline scripts run by nonce, the admin's
Alpine.js under its own policy), and nothing can frame them."""

import pytest

from finance import services as finance_services
from programs.models import Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch(page):
    problems = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") and ("Content Security Policy" in m.text or "Refused" in m.text) else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    return problems


def _login(page, url, username):
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-12345")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_site_and_admin_pages_run_under_the_policy_without_violations(seeded, live_server, page):
    root = UserFactory(username="root_csp", is_superuser=True, is_staff=True)
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person
    finance_services.premium_schedule_generate(contract=Contract.objects.get(code="beijing-chaoyang-2026"), user=root)
    url = live_server.url
    problems = _watch(page)
    _login(page, url, "root_csp")
    visited = {}
    for path in [
        "/", f"/persons/{person.pk}/", f"/claims/new/{person.pk}/tongliao-2025/", "/claims/", "/claims/deadlines/",
        "/claims/hospital-batches/", "/finance/", "/finance/contracts/beijing-chaoyang-2026/", "/registry/imports/",
        "/audit/", "/status/",
        "/admin/", "/admin/claims/claim/", f"/admin/accounts/user/{root.pk}/change/", "/admin/programs/insuredperson/",
        f"/admin/programs/insuredperson/{person.pk}/change/", "/admin/finance/ledgerentry/",
        "/admin/programs/contract/", "/admin/accounts/user/", "/admin/claims/claim/import/",
    ]:
        response = page.goto(url + path)
        page.wait_for_load_state("networkidle")
        visited[path] = response.status
    assert problems == []
    assert {p: s for p, s in visited.items() if s != 200} == {}

    # the register page's inline script (nonce) adds a settlement record
    page.goto(f"{url}/claims/new/{person.pk}/tongliao-2025/")
    before = page.locator("input[name$='-setl_id']").count()
    page.click("#add-record")
    assert page.locator("input[name$='-setl_id']").count() == before + 1
    # the admin's Alpine.js runs: unfold's user menu opens on click
    page.goto(f"{url}/admin/claims/claim/")
    assert page.evaluate("typeof window.Alpine") == "object"
    assert problems == []


def test_admin_look_ups_open_in_a_pop_up_window_not_a_refused_frame(seeded, live_server, page):
    """Unfold would load the raw-id look-up in an <iframe>, which X-Frame-Options DENY leaves
    empty; static/js/admin_popups.js opens Django's pop-up window instead."""
    UserFactory(username="root_popup", is_superuser=True, is_staff=True)
    enrollment = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502"))
    problems = _watch(page)
    _login(page, live_server.url, "root_popup")
    page.goto(f"{live_server.url}/admin/programs/enrollment/{enrollment.pk}/change/")
    with page.context.expect_page() as popup_info:
        page.click("a.related-lookup")
    popup = popup_info.value
    popup.wait_for_load_state()
    assert "_popup=1" in popup.url and "/admin/programs/insuredperson/" in popup.url
    assert popup.locator("#result_list").count() == 1
    assert page.locator("#modal-content iframe").count() == 0
    assert problems == []
