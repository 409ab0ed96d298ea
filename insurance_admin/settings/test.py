"""Test settings: only things that make the suite faster or deterministic."""

import os

from .base import *  # noqa: F401,F403
from .base import MEDIA_ROOT, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_ENABLED = False  # one test switches it back on against the real login view
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Static files come from the finders in tests; no collectstatic output to look for.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SMS_BACKEND = "programs.sms.LocmemBackend"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared-cache in-memory database: in shared-cache mode a second
    # connection (a worker thread of the in-thread Celery worker, the live server) gets
    # "database table is locked" at once instead of waiting for the busy timeout.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405
# One process per test run: an in-memory cache (the default settings share a file or Redis
# cache between the web and worker processes).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# One media folder per pytest-xdist process (the test databases are per process already):
# progress files and uploads are named by row ids, which each process's database repeats.
if os.environ.get("PYTEST_XDIST_WORKER"):
    MEDIA_ROOT = MEDIA_ROOT.parent / f"{MEDIA_ROOT.name}-{os.environ['PYTEST_XDIST_WORKER']}"
