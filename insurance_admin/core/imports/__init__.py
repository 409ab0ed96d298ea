"""The one import framework of uploaded files (issue 18): what every import does the same way,
whatever its columns, row checks and apply step.

- `files`: an upload's sniffing — size limit, format by extension, encoding (the shared rule of
  `insurance_admin.core.encodings`), NUL bytes — and the one exception a file refused as a
  whole raises (`ImportRefused`, its message for the user);
- `progress`: the one progress store of running steps, a small JSON file per batch beside the
  uploads (MEDIA_ROOT): written by the worker outside its transaction, read by any web
  process, so it survives a page reload and works with separate worker processes on the
  embedded SQLite + filesystem broker as on PostgreSQL + Redis;
- `batches`: the claim of a batch by a worker (`StateMachine.claim`, SKIP LOCKED, committed)
  and the hold of its row for the step's transaction (`hold`), and the tasks' retry options;
- `rejected`: the rejected-rows file, every cell formula-safe (`core.exports`) and identity
  columns masked for readers who may not see them.

Users: the enrollment list import (`programs/registry/`, `programs/services.py`) and the
hospital monthly file import (`claims/imports/`)."""

from .files import ImportRefused, Sniffed, check_upload, file_format, sniff

__all__ = ["ImportRefused", "Sniffed", "check_upload", "file_format", "sniff"]
