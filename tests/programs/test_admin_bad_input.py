"""Bad input through the admin: a clear Chinese message on the field, nothing half-saved."""

import pytest
from django.urls import reverse

from programs.models import Contract, Enrollment, InsuredPerson
from tests.factories import certno_for

pytestmark = pytest.mark.django_db


def _person_post(certno, enrollments, name="其木格"):
    data = {
        "certno": certno,
        "name": name,
        "sex": "",
        "birth_date": "",
        "psn_no": "",
        "phone": "",
        "enrollments-TOTAL_FORMS": str(len(enrollments)),
        "enrollments-INITIAL_FORMS": "0",
        "enrollments-MIN_NUM_FORMS": "0",
        "enrollments-MAX_NUM_FORMS": "1000",
        "_save": "保存",
    }
    tongliao = Contract.objects.get(code="tongliao-2025")
    for i, overrides in enumerate(enrollments):
        row = {
            "contract": tongliao.pk,
            "area": tongliao.program.region.children.get(code="150502").pk,
            "category": "ordinary",
            "employment": "active",
            "health": "healthy",
            "status": "active",
            "source": "group",
            "enrolled_from": "2025-01-01",
            "enrolled_to": "",
            **overrides,
        }
        data.update({f"enrollments-{i}-{k}": v for k, v in row.items()})
    return data


def test_caseworker_registers_a_person_with_an_enrollment_and_sex_from_the_id(client, caseworker):
    import datetime as dt

    client.force_login(caseworker)
    certno = certno_for("150502", dt.date(1961, 3, 8), 42)
    response = client.post(reverse("admin:programs_insuredperson_add"), _person_post(certno, [{}]))
    assert response.status_code == 302
    person = InsuredPerson.objects.get(certno=certno)
    assert (person.sex, person.birth_date) == ("2", dt.date(1961, 3, 8))
    assert person.enrollments.get().contract.code == "tongliao-2025"
    assert person.history.get().history_user == caseworker


def test_invalid_id_number_is_refused_on_the_field_and_nothing_is_saved(client, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("admin:programs_insuredperson_add"), _person_post("110105194912310021", [{}]))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["certno"] == ["身份证号校验位错误。"]
    assert not InsuredPerson.objects.exists() and not Enrollment.objects.exists()


def test_duplicate_enrollment_rows_are_refused_and_nothing_is_saved(client, caseworker):
    import datetime as dt

    client.force_login(caseworker)
    certno = certno_for("150502", dt.date(1961, 3, 8), 42)
    response = client.post(reverse("admin:programs_insuredperson_add"), _person_post(certno, [{}, {"category": "special"}]))
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[1].errors["contract"] == ["该参保人已在本协议中参保，不能重复参保。"]
    assert not InsuredPerson.objects.exists() and not Enrollment.objects.exists()


def test_enrollment_admin_refuses_a_duplicate_with_a_chinese_message(client, caseworker, horqin_person):
    client.force_login(caseworker)
    existing = horqin_person.enrollments.get()
    response = client.post(
        reverse("admin:programs_enrollment_add"),
        {
            "person": horqin_person.pk,
            "contract": existing.contract_id,
            "area": existing.area_id,
            "category": "ordinary",
            "employment": "active",
            "health": "healthy",
            "status": "active",
            "source": "individual",
            "enrolled_from": "2025-03-01",
        },
    )
    assert response.status_code == 200
    assert "该参保人已在本协议中参保，不能重复参保。" in response.content.decode()
    assert Enrollment.objects.count() == 1


def test_contract_whose_period_does_not_match_its_year_is_refused(client):
    from tests.factories import UserFactory

    admin_user = UserFactory(role="administrator", area_codes=["150500"])
    client.force_login(admin_user)
    contract = Contract.objects.get(code="tongliao-2025")
    url = reverse("admin:programs_contract_change", args=[contract.pk])
    form = client.get(url).context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(
        {
            "year": "2026",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "signed_on": "",
            "service_cycle_start": "2025-01-01",
            "service_cycle_end": "2027-12-31",
            "headcount_provisional_date": "2025-04-30",
            "headcount_final_date": "2025-11-30",
            "headcount_final": "",
            "premium_rates-TOTAL_FORMS": "0",
            "premium_rates-INITIAL_FORMS": "0",
            "premium_rates-MIN_NUM_FORMS": "0",
            "premium_rates-MAX_NUM_FORMS": "1000",
            "_save": "保存",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["period_start"] == ["保险期间起始于2025年，但协议年度为2026年。"]
    contract.refresh_from_db()
    assert contract.year == 2025
