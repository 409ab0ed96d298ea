import os

import pytest

from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytest_plugins = ("celery.contrib.pytest",)


@pytest.fixture(autouse=True, scope="session")
def _flush_lifts_the_ledger_truncate_guard():
    """PostgreSQL: the ledger refuses TRUNCATE (finance migration 0005), and a transactional
    test's flush truncates every table. The flush lifts the guard inside its own transaction
    (`execute_sql_flush` runs the statements in one atomic block) and puts it back."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from finance.ledger_triggers import TABLE, TRUNCATE_GUARD_OFF, TRUNCATE_GUARD_ON

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        sql = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [TRUNCATE_GUARD_OFF, *sql, TRUNCATE_GUARD_ON] if sql and TABLE in tables else sql

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


def require_or_skip(available: bool, what: str, env_flag: str) -> None:
    """Skip a test whose service is absent, unless CI demands it (then it fails)."""
    if available:
        return
    if os.environ.get(env_flag):
        pytest.fail(f"{what} is required here ({env_flag} is set) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture
def seeded(transactional_db):
    """Transactional tests flush the database afterwards, taking the migration-loaded seed
    contracts, plans, claim terms, report terms, role groups and the holiday calendar with it:
    put them back first (all idempotent)."""
    from django.apps import apps as django_apps
    from django.core.management import call_command

    from insurance_admin.accounts.roles import sync_role_groups
    from insurance_admin.core.models import CalendarDay, CalendarYear
    from insurance_admin.core.workdays import seed_from_chinesecalendar
    from insurance_admin.reporting.seed import load_report_terms

    call_command("seed_contracts", verbosity=0)
    load_report_terms(django_apps)
    sync_role_groups()
    seed_from_chinesecalendar(CalendarDay, CalendarYear)


@pytest.fixture
def caseworker(db):
    """科尔沁区 caseworker."""
    return UserFactory(username="cw_horqin", first_name="科尔沁区经办员", role="caseworker", area_codes=["150502"])


@pytest.fixture
def caseworker_kailu(db):
    return UserFactory(username="cw_kailu", role="caseworker", area_codes=["150523"])


@pytest.fixture
def supervisor(db):
    return UserFactory(username="sup", role="supervisor", area_codes=["150500"])


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rev", role="reviewer", area_codes=["150500"])


@pytest.fixture
def horqin_person(db):
    """An ordinary 2025 Tongliao enrollee in 科尔沁区."""
    return EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person


@pytest.fixture
def kailu_person(db):
    from programs.models import Area

    return EnrollmentFactory(
        person=PersonFactory(name="白其其格", area_code="150523"), area=Area.objects.get(code="150523")
    ).person
