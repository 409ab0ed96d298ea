import pytest

from tests.factories import UserFactory


@pytest.fixture
def finance_user(db):
    return UserFactory(username="fin", role="finance", area_codes=["150500", "411600", "411300", "110000"])


@pytest.fixture
def finance_tongliao(db):
    return UserFactory(username="fin_tl", role="finance", area_codes=["150500"])
