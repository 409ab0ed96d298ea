import pytest
from django.urls import reverse

from insurance_admin.core.masking import mask_certno, mask_name

pytestmark = pytest.mark.django_db


def test_mask_keeps_four_leading_and_trailing_characters():
    assert mask_certno("150502198001011234") == "1505**********1234"
    assert mask_certno("11010519491231002X") == "1101**********002X"
    assert mask_name("包宝山") == "包**"
    assert mask_name("王") == "王*"


def test_person_str_is_masked_by_default(horqin_person):
    assert str(horqin_person) == f"包**（{mask_certno(horqin_person.certno)}）"


def test_supervisor_sees_masked_identities_in_workbench_and_admin(client, supervisor, horqin_person):
    client.force_login(supervisor)
    body = client.get(reverse("home"), {"q": "包", "year": 2025}).content.decode()
    assert mask_certno(horqin_person.certno) in body and "包**" in body
    assert horqin_person.certno not in body and "包宝山" not in body
    body = client.get(reverse("admin:programs_insuredperson_changelist")).content.decode()
    assert mask_certno(horqin_person.certno) in body
    assert horqin_person.certno not in body
    body = client.get(reverse("admin:programs_insuredperson_change", args=[horqin_person.pk])).content.decode()
    assert horqin_person.certno not in body and "包宝山" not in body
    assert client.get(reverse("admin:programs_insuredperson_history", args=[horqin_person.pk])).status_code == 403
    body = client.get(reverse("person_detail", args=[horqin_person.pk])).content.decode()
    assert horqin_person.certno not in body and "包宝山" not in body


def test_caseworker_sees_the_full_identity(client, caseworker, horqin_person):
    client.force_login(caseworker)
    body = client.get(reverse("home"), {"q": horqin_person.certno, "year": 2025}, follow=True).content.decode()
    assert horqin_person.certno in body and "包宝山" in body
