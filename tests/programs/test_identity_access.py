"""Personal data where the role should not see it: the registry's rejected rows are masked for
supervisors and administrators, the check-digit reason never names the right digit, and every
full identity shown (a person's page, an unmasked export) is recorded and readable by
supervisors in the audit trail — scoped to their areas, masked."""

import csv
import io

import pytest
from django.urls import reverse

from programs import services
from programs.identity import check_char
from programs.models import IdentityAccess
from tests.factories import UserFactory
from tests.programs.registry_helpers import csv_bytes, person_row, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _rejected(client, batch) -> list[dict]:
    response = client.get(reverse("import_batch_rejected", args=[batch.pk]))
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def batch_with_rejections(caseworker):
    """科尔沁区 caseworker's list: a wrong sex code (birth date repeated in the reason), a wrong
    check digit."""
    wrong_sex = person_row(1, name="包宝山", gend="9")
    bad_check = person_row(2, name="白其其格")
    right = bad_check["certno"][17]
    bad_check["certno"] = bad_check["certno"][:17] + ("0" if right != "0" else "1")
    mismatch = person_row(3, name="乌力吉", brdy="1979-01-01")
    batch = upload(caseworker, csv_bytes([wrong_sex, bad_check, mismatch]))
    batch = services.import_batch_validate(batch_id=batch.pk)
    assert batch.rows_rejected == 3
    return batch, [wrong_sex, bad_check, mismatch], right


def test_check_digit_reason_does_not_name_the_right_digit(client, caseworker, batch_with_rejections):
    batch, (_s, bad_check, _m), right = batch_with_rejections
    client.force_login(caseworker)
    rows = _rejected(client, batch)
    reason = rows[1][list(rows[1])[-1]]
    assert reason == "身份证号校验位错误。"
    assert check_char(bad_check["certno"][:17]) == right and "应为" not in reason


@pytest.mark.parametrize("role", ["supervisor", "administrator"])
def test_rejected_rows_are_masked_for_supervisors_and_administrators(client, role, batch_with_rejections):
    batch, sent, _right = batch_with_rejections
    reader = UserFactory(username=f"r_{role}", role=role, area_codes=["150500"])
    client.force_login(reader)
    rows = _rejected(client, batch)
    body = "\n".join(",".join(r.values()) for r in rows)
    for row in sent:
        assert row["certno"] not in body and row["psn_name"] not in body
        assert row["certno"][6:14] not in body  # the birth date inside the ID number
    assert [r["certno"] for r in rows] == [s["certno"][:4] + "*" * 10 + s["certno"][-4:] for s in sent]
    assert [r["psn_name"] for r in rows] == ["包**", "白***", "乌**"]
    assert [r["brdy"] for r in rows] == ["****-**-**"] * 3
    assert "1979-01-01" not in body and "1980-03-01" not in body  # the mismatch reason repeats both dates
    assert not IdentityAccess.objects.exists()  # nothing full was seen


def test_an_unmasked_export_is_recorded(client, caseworker, batch_with_rejections):
    batch, sent, _right = batch_with_rejections
    client.force_login(caseworker)
    rows = _rejected(client, batch)
    assert [r["certno"] for r in rows] == [s["certno"] for s in sent]  # entitled: the rows as uploaded
    access = IdentityAccess.objects.get()
    assert (access.user, access.import_batch, access.person, access.rows) == (caseworker, batch, None, 3)
    assert access.where == reverse("import_batch_rejected", args=[batch.pk])


def test_a_person_page_with_the_full_id_is_recorded_and_supervisors_read_it_masked(client, caseworker, supervisor,
                                                                                   horqin_person):
    client.force_login(caseworker)
    page = client.get(reverse("person_detail", args=[horqin_person.pk]))
    assert horqin_person.certno in page.text
    access = IdentityAccess.objects.get()
    assert (access.user, access.person, access.where) == (caseworker, horqin_person,
                                                          reverse("person_detail", args=[horqin_person.pk]))
    client.force_login(supervisor)
    client.get(reverse("person_detail", args=[horqin_person.pk]))  # masked for the supervisor: not recorded
    assert IdentityAccess.objects.count() == 1
    body = client.get(reverse("audit_log"), {"trail": "identity"}).text
    assert "科尔沁区经办员" in body and reverse("person_detail", args=[horqin_person.pk]) in body
    assert "包**" in body and horqin_person.certno[:4] + "*" * 10 + horqin_person.certno[-4:] in body
    assert horqin_person.certno not in body and "包宝山" not in body


def test_the_identity_trail_is_scoped_to_the_readers_areas(client, caseworker, horqin_person, batch_with_rejections):
    batch, _sent, _right = batch_with_rejections
    client.force_login(caseworker)
    client.get(reverse("person_detail", args=[horqin_person.pk]))
    _rejected(client, batch)
    assert IdentityAccess.objects.count() == 2
    kailu = UserFactory(username="sup_kailu", role="supervisor", area_codes=["150523"])
    zhenping = UserFactory(username="sup_zp", role="supervisor", area_codes=["411324"])
    city = UserFactory(username="sup_city", role="supervisor", area_codes=["150500"])
    for reader, expected in [(city, 2), (kailu, 0), (zhenping, 0)]:
        client.force_login(reader)
        body = client.get(reverse("audit_log"), {"trail": "identity"}).text
        assert body.count("查看了完整身份") == expected, reader.username


def test_a_search_result_with_full_ids_is_recorded_without_the_query(client, caseworker, supervisor, horqin_person):
    client.force_login(caseworker)
    page = client.get(reverse("home"), {"q": horqin_person.name[:2]})  # a name: a result list
    assert horqin_person.certno in page.text
    access = IdentityAccess.objects.get()
    assert (access.user, access.person, access.where) == (caseworker, horqin_person, "/")
    client.force_login(supervisor)  # masked results: nothing recorded
    client.get(reverse("home"), {"q": horqin_person.name[:2]})
    assert IdentityAccess.objects.count() == 1


def test_an_address_carrying_an_id_number_is_kept_masked():
    from programs.identity_access import _where

    assert _where("/people/?q=15050219800301001X") == "/people/?q=1505**********001X"
