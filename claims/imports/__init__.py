"""Hospital monthly instant-settlement files (即时结算): read, validate, apply, recompute.

A file goes through a HospitalBatch: upload (hash, format) → validation (every row checked,
nothing written) → confirmation by a person → import in ONE transaction, followed by the
engine's recomputation of the persons concerned. Any error refuses the whole file with a list
of (row, column, message); nothing is saved.

Files are streamed twice (validation, then import) in chunks of CHUNK rows: memory stays
constant whatever the file size, except for the set of setl_ids seen (duplicates in a file).

Re-imports: `setl_id` is the key. A row identical to a stored settlement counts as
"unchanged" and links nothing (the settlement stays in the batch that first brought it); a row
whose setl_id is known with different content refuses the file — a settlement the platform
has already reported is a fact; corrections go through deductions (不合规费用) or recoveries
(追回), never by overwriting the record that was paid on.

Modules: `rows` (columns, reading, cleaning), `batches` (the batch services, totals, due
date, progress), `adjustments` (deductions and recoveries).
"""

from ..seed import seed_settlement_terms  # the seed contracts' terms (kept importable here)
from .adjustments import (
    PARTIES,
    deduction_confirm,
    deduction_record,
    recovery_record,
    settlement_paid,
)
from .batches import (
    BatchPayable,
    batch_apply,
    batch_confirm,
    batch_payable,
    batch_payable_post,
    batch_payable_posted,
    batch_progress,
    batch_record_admin_import,
    batch_retry,
    batch_settlements,
    batch_totals_refresh,
    batch_upload,
    batch_validate,
    day_of_next_month,
    payment_due,
    payment_due_for,
    progress_write,
    report_deadline,
)
from .rows import (
    KNOWN_COLUMNS,
    MESSAGES,
    ImportRefused,
    RowErrors,
    column_label,
    rendered_errors,
    required_columns,
)

__all__ = [
    "KNOWN_COLUMNS", "MESSAGES", "PARTIES", "BatchPayable", "ImportRefused", "RowErrors", "batch_apply", "batch_confirm",
    "batch_payable", "batch_payable_post", "batch_payable_posted", "batch_progress", "batch_record_admin_import", "batch_retry", "batch_settlements", "batch_totals_refresh", "batch_upload", "batch_validate",
    "column_label", "day_of_next_month", "deduction_confirm", "deduction_record", "payment_due", "payment_due_for", "progress_write",
    "recovery_record", "rendered_errors", "report_deadline", "required_columns", "seed_settlement_terms",
    "settlement_paid",
]
