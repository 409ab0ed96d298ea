import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from programs.models import Area, Contract, Enrollment, InsuredPerson, Party, Program
from programs.services import enrollment_create, person_create
from tests.factories import EnrollmentFactory, PersonFactory, certno_for

pytestmark = pytest.mark.django_db


def _integrity(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_database_refuses_a_second_enrollment_in_the_same_contract():
    e = EnrollmentFactory()
    _integrity(lambda: Enrollment.objects.create(person=e.person, contract=e.contract, area=e.area, enrolled_from=e.enrolled_from))


def test_a_cancelled_policy_does_not_block_a_new_enrollment():
    e = EnrollmentFactory(status=Enrollment.Status.CANCELLED, source=Enrollment.Source.INDIVIDUAL)
    again = Enrollment.objects.create(person=e.person, contract=e.contract, area=e.area, enrolled_from=e.enrolled_from)
    assert again.pk != e.pk


def test_duplicate_enrollment_is_refused_in_chinese_before_the_database():
    e = EnrollmentFactory()
    dup = Enrollment(person=e.person, contract=e.contract, area=e.area, enrolled_from=e.enrolled_from)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        dup.full_clean()
    assert exc.value.messages == ["该参保人已在本协议中参保，不能重复参保。"]
    assert Enrollment.objects.count() == 1


def test_database_refuses_a_contract_period_outside_its_year():
    c = Contract.objects.get(code="tongliao-2025")
    _integrity(lambda: Contract.objects.filter(pk=c.pk).update(period_start=dt.date(2024, 12, 1)))


def test_database_refuses_a_reversed_contract_period():
    c = Contract.objects.get(code="tongliao-2025")
    _integrity(lambda: Contract.objects.filter(pk=c.pk).update(period_end=dt.date(2024, 12, 31), period_start=dt.date(2025, 1, 1)))


def test_contract_year_mismatch_is_refused_in_chinese_naming_the_field():
    c = Contract.objects.get(code="tongliao-2025")
    c.year = 2026
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        c.full_clean()
    assert exc.value.message_dict["period_start"] == ["保险期间起始于2025年，但协议年度为2026年。"]
    assert Contract.objects.get(pk=c.pk).year == 2025


def test_contract_parties_must_have_the_right_kind():
    c = Contract.objects.get(code="tongliao-2025")
    c.authority, c.insurer = c.insurer, c.authority
    with pytest.raises(ValidationError) as exc:
        c.full_clean()
    assert set(exc.value.message_dict) >= {"authority", "insurer"}


def test_database_refuses_a_short_id_number_and_a_negative_premium():
    _integrity(lambda: InsuredPerson.objects.create(certno="1505021980", name="x", sex="1", birth_date=dt.date(1980, 1, 1)))
    c = Contract.objects.get(code="beijing-chaoyang-2026")
    _integrity(lambda: Contract.objects.filter(pk=c.pk).update(total_premium=Decimal("-1")))


def test_database_refuses_a_county_without_pooling_region():
    _integrity(lambda: Area.objects.create(code="999999", name="x", level="county"))


def test_person_create_derives_birth_date_and_sex_from_the_id_number():
    certno = certno_for("150502", dt.date(1988, 2, 29), 123)
    p = person_create(certno=certno.lower(), name="乌兰")
    assert (p.certno, p.birth_date, p.sex) == (certno, dt.date(1988, 2, 29), "1")
    assert p.history.count() == 1


def test_person_with_inconsistent_birth_date_is_refused_and_not_saved():
    certno = certno_for("150502", dt.date(1988, 2, 29), 123)
    p = InsuredPerson(certno=certno, name="乌兰", birth_date=dt.date(1988, 3, 1), sex="1")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        p.full_clean()
    assert exc.value.message_dict["birth_date"] == ["出生日期1988-03-01与身份证号不一致（应为1988-02-29）。"]
    assert not InsuredPerson.objects.exists()


def test_person_create_with_a_wrong_check_digit_saves_nothing():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        person_create(certno="110105194912310021", name="张三")
    assert exc.value.message_dict["certno"] == ["身份证号校验位错误。"]
    assert not InsuredPerson.objects.exists()
    assert not InsuredPerson.history.exists()


def test_enrollment_area_must_be_a_county_of_the_program_region():
    person = PersonFactory()
    contract = Contract.objects.get(code="tongliao-2025")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        enrollment_create(person=person, contract=contract, area=Area.objects.get(code="411627"), enrolled_from=dt.date(2025, 1, 1))
    assert exc.value.message_dict["area"] == ["太康县不在通辽市城乡居民大病保险的承保范围内。"]
    with pytest.raises(ValidationError) as exc:
        enrollment_create(person=person, contract=contract, area=Area.objects.get(code="150500"), enrolled_from=dt.date(2025, 1, 1))
    assert "area" in exc.value.message_dict
    assert not Enrollment.objects.exists()


def test_enrollment_must_start_within_the_contract_period():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        enrollment_create(
            person=PersonFactory(),
            contract=Contract.objects.get(code="tongliao-2025"),
            area=Area.objects.get(code="150502"),
            enrolled_from=dt.date(2026, 1, 1),
        )
    assert exc.value.message_dict["enrolled_from"] == ["参保起始日必须在保险期间2025-01-01至2025-12-31之内。"]


def test_party_and_program_kinds_are_checked_in_the_database():
    _integrity(lambda: Party.objects.create(name="x", kind="broker"))
    _integrity(lambda: Program.objects.create(code="x", name="x", kind="life", region=Area.objects.get(code="150500")))
