"""The one progress store of running import steps: a small JSON file per batch beside the
uploads, `MEDIA_ROOT/import-progress/<kind>/<batch id>.json`.

Why not the batch row: a step runs in ONE transaction that holds the batch row locked, so
nothing it writes to the database is visible (or, on SQLite, even writable by another
connection) until it commits. Why not the cache: the embedded setup's cache is per-host
files or per-process memory (LocMem in tests), Redis only in production. MEDIA_ROOT is the
one place the web and worker processes already share in every setup (the worker reads the
upload from it), so a page reload — or another web host — reads what the worker wrote.
Writes are atomic (a temporary file renamed over the old one); a missing or unreadable file
reads as {}. A progress display never stops an import: write errors are logged only."""

from __future__ import annotations

import json
import logging
import os

from django.conf import settings

logger = logging.getLogger(__name__)


def _path(kind: str, batch_id: int) -> str:
    return os.path.join(settings.MEDIA_ROOT, "import-progress", kind, f"{int(batch_id)}.json")


def progress_write(kind: str, batch_id: int, data: dict) -> None:
    path = _path(kind, batch_id)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(tmp, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
    except OSError:
        logger.warning("progress of %s batch %s not recorded", kind, batch_id, exc_info=True)


def progress_read(kind: str, batch_id: int) -> dict:
    try:
        with open(_path(kind, batch_id)) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def progress_clear(kind: str, batch_id: int) -> None:
    try:
        os.remove(_path(kind, batch_id))
    except OSError:
        pass
