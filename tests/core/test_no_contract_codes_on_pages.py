"""What users read names a contract by its title, never by its internal code (the URL's key).
Each main page is read as a supervisor and a finance officer of all four seed areas; the text a
person sees (tags and attributes removed) must not hold any contract's code."""

import html
import re

import pytest
from django.urls import reverse

from programs.models import Contract
from tests.factories import UserFactory

AREAS = ["110105", "411324", "411627", "150500"]
PAGES = ["home", "finance:dashboard", "deadline_list", "dashboards:dashboard", "claim_list", "finance:simulations",
         "reporting:list", "assessments:index", "complaints:list", "staffing:roster", "claim_deadlines"]


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("role", ["supervisor", "finance"])
def test_no_page_shows_a_contracts_code(db, client, role):
    codes = list(Contract.objects.values_list("code", flat=True))
    assert len(codes) == 4
    client.force_login(UserFactory(username=f"all_{role}", role=role, area_codes=AREAS))
    read = 0
    for name in PAGES:
        response = client.get(reverse(name), follow=True)
        if response.status_code == 403:  # the role does not have this page
            continue
        assert response.status_code == 200, name
        text = _visible_text(response.content.decode())
        assert [c for c in codes if c in text] == [], name
        read += 1
    assert read >= 7
