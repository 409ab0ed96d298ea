"""The bulk path of an enrollment list, step by step (the small admin import goes through the
ORM, `services.enrollment_list_row_apply`; both follow `programs.registry.rule`):

- `staging`: validation — checked blocks staged, duplicates and taken person numbers settled,
  the rejected-rows report;
- `apply`: the one-transaction application, which runs
  - `first_load` for a contract's first list (every row new),
  - `index_rebuild` around it when the list is big (PostgreSQL),
  - `changes` for a later list (new persons and enrollments, dated changes, `rule_sql`),
  - `exits` for a complete later list;
- `tables`: the registry's table and column names (from the models) and the batch's tables.

The SQL runs on SQLite and PostgreSQL alike; PostgreSQL adds the bulk first load (indexes
rebuilt, reserved id blocks) and stages by COPY."""

from .apply import apply, individual_enrollments_to_supersede
from .index_rebuild import IndexRebuild
from .staging import counts, load, rejected_csv, settle
from .tables import (
    ENROLLMENT_COLUMNS,
    E,
    H,
    P,
    drop_tables,
    map_table,
    rejected_table,
    stage_exists,
    stage_table,
    staged_batch_ids,
)

__all__ = [
    "E", "ENROLLMENT_COLUMNS", "H", "IndexRebuild", "P", "apply", "counts", "drop_tables",
    "individual_enrollments_to_supersede", "load", "map_table", "rejected_csv", "rejected_table", "settle",
    "stage_exists", "stage_table", "staged_batch_ids",
]
