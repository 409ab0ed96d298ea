import pytest


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once per module inside a transaction that is rolled back at the end: the other
    test modules never see it. Each test runs in a savepoint of it (the `db` fixture)."""
    from django.db import transaction
    from django.test.utils import override_settings

    from tests.security import world as w

    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("guard-media"))):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            data = w.build_world()
            data["ownership"] = w.Ownership()
            data["baseline"] = w.checksum()
            yield data
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def pytest_terminal_summary(terminalreporter):
    import sys

    module = sys.modules.get("tests.security.test_guard")
    if module is None or not module.STATS:
        return
    stats = dict(module.STATS)
    terminalreporter.write_sep("-", "security guard")
    terminalreporter.write_line(", ".join(f"{k}={v}" for k, v in sorted(stats.items())))
