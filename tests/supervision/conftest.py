import pytest

from tests.factories import EnrollmentFactory, PersonFactory, UserFactory


@pytest.fixture
def chaoyang_caseworker(db):
    return UserFactory(username="cw_chaoyang", first_name="朝阳经办员", role="caseworker", area_codes=["110105"])


@pytest.fixture
def beijing_supervisor(db):
    return UserFactory(username="sup_bj", first_name="北京主管", role="supervisor", area_codes=["110000"])


@pytest.fixture
def taikang_supervisor(db):
    return UserFactory(username="sup_tk", first_name="太康主管", role="supervisor", area_codes=["411600"])


@pytest.fixture
def chaoyang_person(db):
    from programs.models import Area, Contract

    return EnrollmentFactory(
        person=PersonFactory(name="赵丽华", area_code="110105", phone="13912345678"),
        contract=Contract.objects.get(code="beijing-chaoyang-2026"), area=Area.objects.get(code="110105"),
    ).person
