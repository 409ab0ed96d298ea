import pytest, datetime as dt
from tests.programs.registry_helpers import *
from tests.factories import UserFactory
from programs.models import Enrollment, InsuredPerson

@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

def test_smoke(db):
    admin = UserFactory(username="a", is_superuser=True)
    rows = [person_row(i) for i in range(1, 6)]
    rows.append(person_row(7, gend="9"))
    b = run_import(admin, csv_bytes(rows))
    print(b.status, b.error, b.rows_read, b.rows_valid, b.rows_rejected, b.rows_added)
    assert b.status == "done"
    assert Enrollment.objects.count() == 5
    rows2 = [person_row(i) for i in range(1, 4)] + [person_row(4, psn_type="特困")]
    b2 = run_import(admin, csv_bytes(rows2), effective_date=dt.date(2025, 6, 1))
    print(b2.status, b2.error, b2.rows_added, b2.rows_changed, b2.rows_exited, b2.rows_unchanged)
    assert (b2.rows_changed, b2.rows_exited, b2.rows_unchanged) == (1, 1, 3)
