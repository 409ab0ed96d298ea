import pytest
from django.core.management import call_command

from claims.models import Claim

pytestmark = pytest.mark.django_db


def test_demo_claims_cover_the_states_and_load_once():
    call_command("load_demo", verbosity=0)
    call_command("load_demo_claims", verbosity=0)
    call_command("load_demo_claims", verbosity=0)
    statuses = sorted(Claim.objects.values_list("status", flat=True))
    assert statuses == sorted(["paid", "approved", "submitted", "documents_complete", "registered",
                               "submitted", "calculated", "documents_complete"])
    paid = Claim.objects.get(status="paid")
    assert str(paid.payable) == "4800.00"  # (14,000, 22,000] × 60 %

