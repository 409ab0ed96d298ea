"""试算 → registration without typing the figures again (issue 23 item 3).

The trial page's result carries every figure it calculated with — the records as the engine
read them, whether typed in the grid or pasted as JSON — to the registration form, as hidden
fields named like the registration form's own fields ("c-…" for the claim, "r-<n>-…" for
each settlement record). The registration page, posted with `from_trial`, shows them as the
form's initial values: nothing is registered until the caseworker completes and submits it.

What the two forms share: the claim kind, place, hospital level and discharge date (one per
claim: the first record's, and the latest discharge), and per record the settlement id (unless
the trial made one up), every amount, the special-drug list, the designated flag and the
itemised lines.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from .engine import SettlementRecord

CARRY_FLAG = "from_trial"
CLAIM_PREFIX, RECORD_PREFIX = "c", "r"
#: the settlement id the trial gives a record typed without one (claims.forms.TrialRecordForm.record)
_MADE_UP_ID = re.compile(r"^试算\d+$")
_AMOUNTS = tuple(name for name, default in SettlementRecord._field_defaults.items() if isinstance(default, Decimal))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def carry_fields(records: list[SettlementRecord]) -> list[tuple[str, str]]:
    """[(field name, value)] of the registration form for these trial records."""
    if not records:
        return []
    first = records[0]
    fields = [
        (f"{CLAIM_PREFIX}-claim_kind", first.claim_kind),
        (f"{CLAIM_PREFIX}-place", first.place or ""),
        (f"{CLAIM_PREFIX}-hosp_lv", first.hosp_lv or ""),
        (f"{CLAIM_PREFIX}-enddate", max(r.enddate for r in records).isoformat()),
        (f"{RECORD_PREFIX}-TOTAL_FORMS", str(len(records))),
    ]
    for i, record in enumerate(records):
        p = f"{RECORD_PREFIX}-{i}-"
        if record.setl_id and not _MADE_UP_ID.match(record.setl_id):
            fields.append((p + "setl_id", record.setl_id))
        fields += [(p + name, _money(getattr(record, name))) for name in _AMOUNTS if getattr(record, name)]
        if record.drug_list:
            fields.append((p + "drug_list", record.drug_list))
        if record.designated is not None:
            fields.append((p + "designated", "1" if record.designated else ""))
        if record.items:
            fields.append((p + "items", json.dumps(
                [{"code": it.code, "type": it.item_type, "amount": _money(it.amount)} for it in record.items],
                ensure_ascii=False)))
    return fields


def carried_initial(data, claim_fields, record_fields) -> tuple[dict, list[dict]]:
    """(claim form initial, record forms' initial) from a carry POST: only the forms' own
    fields, at most 20 records (the formset's maximum)."""
    claim = {name: data[f"{CLAIM_PREFIX}-{name}"] for name in claim_fields if data.get(f"{CLAIM_PREFIX}-{name}")}
    try:
        count = min(int(data.get(f"{RECORD_PREFIX}-TOTAL_FORMS", "0")), 20)
    except ValueError:
        count = 0
    records = []
    for i in range(count):
        p = f"{RECORD_PREFIX}-{i}-"
        row = {name: data[p + name] for name in record_fields if data.get(p + name)}
        if "designated" in row:
            row["designated"] = row["designated"] == "1"
        records.append(row)
    return claim, records
