"""No full ID number in a log line: request paths logged by Django (django.request,
django.server) and by gunicorn's access log have ID numbers and person numbers masked."""

import io
import logging
import logging.config

import pytest

from insurance_admin.core.logmasking import mask_identities
from insurance_admin.settings import base

CERTNO = "15050219800301001X"
MASKED = "1505**********001X"


@pytest.mark.parametrize("line, expected", [
    (f'"GET /?q={CERTNO} HTTP/1.1" 200', f'"GET /?q={MASKED} HTTP/1.1" 200'),
    (f"/?q={CERTNO.lower()}&year=2025", f"/?q={MASKED[:-1]}x&year=2025"),
    ("/?q=150502800301001", "/?q=1505*******1001"),  # the old 15-digit number
    ("/claims/?psn_no=P150502000001&page=2", "/claims/?psn_no=P150*****0001&page=2"),
    ("/persons/123/?year=2025", "/persons/123/?year=2025"),
    ("account 6228480000000000000 stays", "account 6228480000000000000 stays"),  # 19 digits: not an ID number
])
def test_id_numbers_and_person_numbers_are_masked(line, expected):
    assert mask_identities(line) == expected


@pytest.fixture
def project_logging():
    """settings.base.LOGGING applied for real (the test settings switch it off), then undone."""
    names = ["", "django", "django.server", "django.request"]
    saved = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).level, logging.getLogger(n).propagate,
                 logging.getLogger(n).filters[:]) for n in names}
    logging.config.dictConfig(base.LOGGING)
    yield
    for n, (handlers, level, propagate, filters) in saved.items():
        logger = logging.getLogger(n)
        logger.handlers, logger.level, logger.propagate, logger.filters = handlers, level, propagate, filters


def _capture(logger_name: str) -> io.StringIO:
    stream = io.StringIO()
    logger = logging.getLogger(logger_name)
    for handler in logger.handlers:
        handler.setStream(stream)
    return stream


def test_django_request_and_server_logs_are_masked(project_logging):
    root, server = _capture(""), _capture("django.server")
    logging.getLogger("django.request").warning("Not Found: %s", f"/?q={CERTNO}")
    logging.getLogger("django.server").info('"%s" %s %s', f"GET /?q={CERTNO} HTTP/1.1", "200", "512")
    assert f"Not Found: /?q={MASKED}" in root.getvalue() and CERTNO not in root.getvalue()
    assert f"GET /?q={MASKED} HTTP/1.1" in server.getvalue() and CERTNO not in server.getvalue()


def test_gunicorn_access_log_is_masked():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    access = logging.getLogger("gunicorn.access")
    level = access.level
    access.setLevel(logging.INFO)  # as gunicorn's Logger.setup does
    access.addHandler(handler)
    try:
        # gunicorn's own call: the format string with a dict of atoms
        access.info('%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1", "r": f"GET /?q={CERTNO} HTTP/1.1", "s": "200"})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert stream.getvalue() == f'10.0.0.1 "GET /?q={MASKED} HTTP/1.1" 200\n'
