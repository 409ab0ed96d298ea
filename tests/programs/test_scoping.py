"""A caseworker sees only their county: workbench, person pages, admin lists, change views,
foreign-key choices."""

import pytest
from django.urls import reverse

from programs.models import Area, Contract, Enrollment, InsuredPerson
from tests.factories import EnrollmentFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_querysets_are_scoped_to_the_users_county(caseworker, horqin_person, kailu_person):
    assert list(InsuredPerson.objects.for_user(caseworker)) == [horqin_person]
    assert set(Enrollment.objects.for_user(caseworker).values_list("person_id", flat=True)) == {horqin_person.pk}
    assert list(Contract.objects.for_user(caseworker).values_list("code", flat=True)) == ["tongliao-2025"]
    assert list(Area.objects.for_user(caseworker).values_list("code", flat=True)) == ["150502"]


def test_a_pool_binding_covers_all_its_counties(reviewer, horqin_person, kailu_person):
    assert set(InsuredPerson.objects.for_user(reviewer)) == {horqin_person, kailu_person}
    assert Area.objects.for_user(reviewer).counties().count() == 9


def test_a_user_without_areas_sees_nobody(horqin_person):
    from tests.factories import UserFactory

    nobody = UserFactory(role="caseworker")
    assert not InsuredPerson.objects.for_user(nobody).exists()
    assert not Contract.objects.for_user(nobody).exists()


def test_workbench_search_does_not_find_a_person_of_another_county(client, caseworker, kailu_person):
    client.force_login(caseworker)
    response = client.get(reverse("home"), {"q": kailu_person.certno, "year": 2025})
    assert response.status_code == 200
    body = response.content.decode()
    # the person exists, enrolled in 开鲁县: told so, without their name or (masked) ID number
    assert "该参保人不在您负责的区域，由其参保地经办。" in body
    assert kailu_person.name not in body and kailu_person.name[0] + "*" not in body
    from insurance_admin.core.masking import mask_certno

    assert mask_certno(kailu_person.certno) not in body


def test_person_page_of_another_county_is_404(client, caseworker, kailu_person, horqin_person):
    client.force_login(caseworker)
    assert client.get(reverse("person_detail", args=[kailu_person.pk])).status_code == 404
    assert client.get(reverse("person_detail", args=[horqin_person.pk])).status_code == 200


def test_admin_does_not_list_or_open_a_person_of_another_county(client, caseworker, kailu_person, horqin_person):
    client.force_login(caseworker)
    changelist = client.get(reverse("admin:programs_insuredperson_changelist"))
    assert changelist.status_code == 200
    assert horqin_person.certno in changelist.content.decode()
    assert kailu_person.certno not in changelist.content.decode()
    # Django's admin answers an object outside the queryset like a missing one: redirect + message.
    change = client.get(reverse("admin:programs_insuredperson_change", args=[kailu_person.pk]))
    assert change.status_code == 302 and change.url == reverse("admin:index")
    history = client.get(reverse("admin:programs_insuredperson_history", args=[kailu_person.pk]))
    assert history.status_code == 404
    enrollment = kailu_person.enrollments.get()
    change = client.get(reverse("admin:programs_enrollment_change", args=[enrollment.pk]))
    assert change.status_code == 302


def test_admin_post_cannot_edit_a_person_of_another_county(client, caseworker, kailu_person):
    client.force_login(caseworker)
    client.post(reverse("admin:programs_insuredperson_change", args=[kailu_person.pk]), {"name": "篡改"})
    kailu_person.refresh_from_db()
    assert kailu_person.name == "白其其格"


def test_admin_area_choices_are_limited_to_the_users_county(client, caseworker):
    client.force_login(caseworker)
    response = client.get(reverse("admin:programs_enrollment_add"))
    area_field = response.context["adminform"].form.fields["area"]
    assert [a.code for a in area_field.queryset] == ["150502"]
    contract_field = response.context["adminform"].form.fields["contract"]
    assert [c.code for c in contract_field.queryset] == ["tongliao-2025"]


def test_admin_refuses_an_enrollment_posted_for_another_county(client, caseworker):
    client.force_login(caseworker)
    person = PersonFactory()
    EnrollmentFactory(person=person)  # keeps the person visible to the caseworker
    response = client.post(
        reverse("admin:programs_enrollment_add"),
        {
            "person": person.pk,
            "contract": Contract.objects.get(code="tongliao-2025").pk,
            "area": Area.objects.get(code="150523").pk,
            "category": "ordinary",
            "employment": "active",
            "health": "healthy",
            "status": "active",
            "source": "group",
            "enrolled_from": "2025-01-01",
        },
    )
    assert response.status_code == 200  # form redisplayed with an error
    assert "area" in response.context["adminform"].form.errors
    assert Enrollment.objects.count() == 1
