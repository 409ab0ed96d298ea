"""Reading and checking hospital settlement files: columns, encodings, CSV/XLSX streams, one
row's cleaning (pure) and a chunk's database checks (persons, enrollments, known setl_ids)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from insurance_admin.accounts.scoping import area_scope_ids
from insurance_admin.core.imports import files as import_files
from insurance_admin.core.imports import rejected as rejected_file
from insurance_admin.core.imports.files import ImportRefused
from insurance_admin.core.masking import mask_certno
from insurance_admin.core.money import CENT, to_decimal
from programs.benefit_rules.glossary import (
    AMOUNT_FIELDS,
    CLAIM_KINDS,
    DRUG_LISTS,
    HOSP_LEVELS,
    PLACES,
    RECORD_ATTRIBUTES,
)
from programs.coverage import coverage_timelines, not_covered_message
from programs.models import Area, Contract, Enrollment, InsuredPerson

from ..models import HospitalBatch, Settlement

CHUNK = 2000
MAX_STORED_ERRORS = 500
PREVIEW_ROWS = 20
MONEY_TOLERANCE = Decimal("0.01")

# --- columns ---------------------------------------------------------------------------------

TEXT_FIELDS = ("setl_id", "mdtrt_id", "psn_no", "insutype", "med_type", "fixmedins_code", "fixmedins_name")
DATE_FIELDS = ("begndate", "enddate")
CODE_FIELDS = {"claim_kind": CLAIM_KINDS, "place": PLACES, "hosp_lv": HOSP_LEVELS, "drug_list": DRUG_LISTS}
SETTLEMENT_AMOUNTS = AMOUNT_FIELDS  # every national amount column is stored on Settlement
#: Columns read but not stored on Settlement (identity is the person's, not the record's).
IDENTITY_COLUMNS = ("certno", "psn_name", "gend", "brdy")
KNOWN_COLUMNS = (
    *TEXT_FIELDS, *IDENTITY_COLUMNS, *DATE_FIELDS, "setl_time", *CODE_FIELDS, "designated",
    *SETTLEMENT_AMOUNTS, "pool_prop_selfpay",
)
ALWAYS_REQUIRED = (
    "setl_id", "enddate", "claim_kind", "fixmedins_code", "fixmedins_name",
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "hifp_pay",
)
#: Stored fields compared to decide whether a re-imported row is unchanged.
COMPARED_FIELDS = (*TEXT_FIELDS, *DATE_FIELDS, "setl_time", *CODE_FIELDS, "designated", *SETTLEMENT_AMOUNTS,
                   "pool_prop_selfpay")
#: Every Settlement field a row fills, in a fixed order (the bulk insert's columns).
VALUE_FIELDS = COMPARED_FIELDS
COLUMN_LABELS = {
    "certno": _("ID number"), "psn_name": _("name"), "gend": _("sex"), "brdy": _("birth date"),
}

MESSAGES = {
    **import_files.MESSAGES,  # the framework's refusals of a whole file (format, encoding, size)
    "unreadable": _("The file cannot be read: %(detail)s"),
    "empty": _("The file has no data rows."),
    "missing_column": _("Column %(name)s is missing."),
    "missing_identity": _("Either psn_no or certno is needed to identify the insured person."),
    "required": _("Required value is empty."),
    "not_amount": _("“%(value)s” is not an amount."),
    "negative": _("Amount %(value)s is negative."),
    "too_precise": _("Amount %(value)s has more than two decimals."),
    "not_ratio": _("“%(value)s” is not a ratio between 0 and 1."),
    "not_date": _("“%(value)s” is not a date (YYYY-MM-DD)."),
    "not_datetime": _("“%(value)s” is not a date and time (YYYY-MM-DD HH:MM:SS)."),
    "outside_contract": _("Date %(value)s lies outside the contract period %(start)s – %(end)s."),
    "begndate_after_enddate": _("Admission %(begndate)s is after discharge %(enddate)s."),
    "bad_code": _("“%(value)s” is not one of: %(allowed)s."),
    "not_boolean": _("“%(value)s” is not yes/no (1/0)."),
    "too_long": _("“%(value)s” is longer than %(max)s characters."),
    "too_large": _("Amount %(value)s is too large (at most 999,999,999,999.99)."),
    "nul": _("The value contains a NUL character (\\x00)."),
    "identity": _("Total medical cost %(medfee)s differs from the sum of its four parts %(parts)s by %(diff)s (more than 0.01)."),
    "duplicate_setl_id": _("Settlement id %(value)s already appears in row %(first)s."),
    "other_hospital": _("Hospital %(value)s differs from the file's hospital %(expected)s."),
    "unknown_person": _("No insured person with %(value)s."),
    "person_mismatch": _("psn_no and certno belong to different persons."),
    "future_discharge": _("Discharge date %(value)s is in the future (today is %(today)s)."),
    "hifp_above_scope": _("Basic pooled fund paid %(hifp)s exceeds the amount within policy scope %(inscp)s."),
    "not_enrolled": _("The person is not enrolled in %(contract)s."),
    "out_of_scope": _("The person's area %(area)s is outside your areas."),
    "changed_settlement": _("Settlement %(value)s was already imported with different content; correct it by a deduction or recovery, not by re-import."),
    "other_contract": _("Settlement %(value)s belongs to another contract or is a manual claim."),
    "failed": _("The import failed: %(detail)s"),
    "check_failed": _("The check of the file failed: %(detail)s"),
}


def column_label(column: str) -> str:
    if not column:
        return ""
    if column in COLUMN_LABELS:
        label = COLUMN_LABELS[column]
    else:
        try:
            label = Settlement._meta.get_field(column).verbose_name
        except Exception:  # noqa: BLE001 - an unknown column is shown by its name only
            return column
    return f"{column}（{label}）"


def render_error(error: dict) -> str:
    if error["code"] == "not_covered":
        return not_covered_message(**error["params"])
    message = MESSAGES.get(error["code"], error["code"])
    return str(message) % error.get("params", {}) if error.get("params") else str(message)


def rendered_errors(errors: list[dict]) -> list[dict]:
    """Errors as the pages show them: row, column with its Chinese label, message."""
    return [
        {"row": e.get("row") or "", "column": column_label(e.get("column", "")), "message": render_error(e)}
        for e in errors
    ]


class RowErrors:
    """Collects errors; counts all of them but keeps the first MAX_STORED_ERRORS. With
    `rejected`, every error of a data row also goes to the rejected-rows file."""

    def __init__(self, rejected: RejectedRows | None = None) -> None:
        self.items: list[dict] = []
        self.count = 0
        self.rejected = rejected

    def add(self, row: int | None, column: str, code: str, **params) -> None:
        self.count += 1
        # as stored (text): the messages are rendered from what the batch keeps (ISO dates)
        stored = {k: _storable(str(v)) for k, v in params.items()}
        if self.rejected is not None and row is not None and row > 1:
            self.rejected.note(row, column, code, stored)
        if len(self.items) < MAX_STORED_ERRORS:
            self.items.append({"row": row, "column": _storable(column), "code": code, "params": stored})

    def __bool__(self) -> bool:
        return self.count > 0


class RejectedRows:
    """The rejected-rows file of a scan (the import framework's, `core.imports.rejected`):
    every rejected data row with its line number, the file's own cells and the reasons in
    the site's language. The scan hands over each row it reads (`read`) and the rows of a
    window are written, in line order, once the window's database checks are done (`flush`):
    memory holds one window of rows, whatever the file's size. Masking is the reader's
    (on download), like the enrollment list's."""

    def __init__(self) -> None:
        self.file = rejected_file.Writer()
        self.columns: list[str] | None = None
        self._window: list[tuple[int, dict]] = []
        self._reasons: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self._window)

    @property
    def rows(self) -> int:
        return self.file.rows

    def read(self, number: int, raw: dict) -> None:
        if self.columns is None:
            self.columns = list(raw)
            with translation.override(settings.LANGUAGE_CODE):
                self.file.header([gettext("line"), *self.columns, gettext("reason")])
        self._window.append((number, raw))

    def note(self, number: int, column: str, code: str, params: dict) -> None:
        with translation.override(settings.LANGUAGE_CODE):
            message = render_error({"code": code, "params": params})
            label = column_label(column)
            self._reasons.setdefault(number, []).append(f"{label}：{message}" if label else message)

    def flush(self) -> None:
        for number, raw in self._window:
            reasons = self._reasons.pop(number, None)
            if reasons:
                self.file.row([number, *(_text(raw.get(c)) for c in self.columns or ()), "；".join(reasons)])
        self._window = []


def required_columns(contract: Contract) -> tuple[str, ...]:
    """The columns a file for `contract` must have: the national core, the program's platform
    field, and every amount and record attribute the contract's benefit rules read."""
    plan = contract.benefit_plan.engine_plan()
    wanted = list(ALWAYS_REQUIRED)
    platform = contract.program.platform_paid_field
    if platform:
        wanted.append(platform)
    for liability in plan.liabilities:
        wanted.extend(term.field for term in liability.base)
        selectors = [liability.eligibility, *(r.when for r in liability.schedule), *(c.when for c in liability.caps)]
        for selector in selectors:
            wanted.extend(a for a in selector.attributes() if a in RECORD_ATTRIBUTES)
    return tuple(dict.fromkeys(wanted))


# --- reading -------------------------------------------------------------------------------


def _refused(code: str, column: str = "", **params) -> ImportRefused:
    return ImportRefused(code, MESSAGES[code], column=column, **params)


def detect_encoding(path: str) -> str:
    """The file's encoding by the framework's rule, checked to the end so a file that is neither
    UTF-8 nor GBK is refused before any row is read."""
    return import_files.detect_encoding(path, verify=True)


def iter_rows(path: str, fmt: str, encoding: str = "") -> Iterator[tuple[int, dict]]:
    """(spreadsheet row number, {column: raw value}) for each non-empty data row. The header
    row is row 1. Raises ImportRefused when the header is missing."""
    if fmt == "csv":
        with open(path, encoding=encoding or detect_encoding(path), newline="") as fh:
            reader = csv.reader(fh)
            header = _header(next(reader, None))
            for number, values in enumerate(reader, start=2):
                if any(v.strip() for v in values):
                    yield number, dict(zip(header, values, strict=False))
        return
    # heavy: openpyxl loaded only when an .xlsx file is read
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a broken workbook is the user's file, not our bug
        raise _refused("unreadable", detail=type(exc).__name__) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = _header(next(rows, None))
        for number, values in enumerate(rows, start=2):
            if any(v not in (None, "") for v in values):
                yield number, dict(zip(header, values, strict=False))
    finally:
        wb.close()


def _header(values) -> list[str]:
    if not values:
        raise _refused("empty")
    return [str(v or "").strip().lstrip("\ufeff").lower() for v in values]


# --- cleaning one row ----------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an id typed as a number in Excel
    return str(value).strip()


def _storable(text: str) -> str:
    """Text that a JSON column takes on PostgreSQL (jsonb refuses \\u0000), shown as �."""
    return text.replace("\x00", "\ufffd")


def parse_amount(value) -> Decimal:
    """Yuan with at most two decimals; empty is zero. Raises ValueError(code)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal("0.00")
    if isinstance(value, bool):
        raise ValueError("not_amount")
    try:  # the one parser (insurance_admin.core.money): thousands commas, finite numbers only
        amount = to_decimal(str(value), "amount")
    except ValueError:
        raise ValueError("not_amount") from None
    if amount < 0:
        raise ValueError("negative")
    if amount.adjusted() >= 12:  # beyond DecimalField(max_digits=14, decimal_places=2); 1e30 cannot even be quantized
        raise ValueError("too_large")
    if amount != amount.quantize(CENT):
        raise ValueError("too_precise")
    return amount.quantize(CENT)


def parse_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)  # the usual form, ten times faster than strptime
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("not_date")


def parse_datetime(value) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = dt.datetime.fromisoformat(text) if len(text) == 19 and text[10] == " " else None
        except ValueError:
            moment = None
        for fmt in () if moment else ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y-%m-%d"):
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            raise ValueError("not_datetime")
    # local wall-clock time (Asia/Shanghai); zoneinfo resolves the offset itself
    return moment.replace(tzinfo=timezone.get_current_timezone()) if timezone.is_naive(moment) else moment


BOOLEANS = {"1": True, "true": True, "yes": True, "y": True, "是": True,
            "0": False, "false": False, "no": False, "n": False, "否": False}


@dataclass
class RowContext:
    contract: Contract
    places: tuple[str, ...]
    hospital: list[str]  # [code, name] of the file, from its first row

    @classmethod
    def for_contract(cls, contract: Contract) -> RowContext:
        plan = contract.benefit_plan.engine_plan()
        return cls(contract, tuple(plan.places) or PLACES, [])


def clean_row(number: int, raw: dict, ctx: RowContext, errors: RowErrors) -> dict | None:
    """The row's stored values (Settlement field names), or None after recording its errors.
    Pure: no database access (persons and known settlements are checked per chunk)."""
    before = errors.count
    nul = [name for name, value in raw.items() if isinstance(value, str) and "\x00" in value]
    if nul:  # PostgreSQL takes no NUL in text, not even in a query: refuse the row before any look-up
        for name in nul:
            errors.add(number, name, "nul")
        return None
    values: dict = {}
    for name in TEXT_FIELDS:
        value = _text(raw.get(name))
        limit = Settlement._meta.get_field(name).max_length
        if len(value) > limit:
            errors.add(number, name, "too_long", value=value[:50], max=limit)
        values[name] = value
    certno = _text(raw.get("certno")).upper()
    for name in ("setl_id", "fixmedins_code", "fixmedins_name"):
        if not values[name]:
            errors.add(number, name, "required")
    if not values["psn_no"] and not certno:
        errors.add(number, "psn_no", "missing_identity")
    for name in DATE_FIELDS:
        try:
            values[name] = parse_date(raw.get(name))
        except ValueError as exc:
            errors.add(number, name, str(exc), value=_text(raw.get(name)))
            values[name] = None
    if values["enddate"] is None and not any(e["row"] == number and e["column"] == "enddate" for e in errors.items):
        errors.add(number, "enddate", "required")
    contract = ctx.contract
    for name in DATE_FIELDS:
        day = values[name]
        if name == "enddate" and day and not (contract.period_start <= day <= contract.period_end):
            errors.add(number, name, "outside_contract", value=day.isoformat(),
                       start=contract.period_start.isoformat(), end=contract.period_end.isoformat())
    today = timezone.localdate()
    # one message per cell: a discharge outside the contract year is already refused for that
    end = values["enddate"]
    if end and end > today and contract.period_start <= end <= contract.period_end:
        errors.add(number, "enddate", "future_discharge", value=values["enddate"].isoformat(), today=today.isoformat())
    if values["begndate"] and values["enddate"] and values["begndate"] > values["enddate"]:
        errors.add(number, "begndate", "begndate_after_enddate", begndate=values["begndate"].isoformat(),
                   enddate=values["enddate"].isoformat())
    try:
        values["setl_time"] = parse_datetime(raw.get("setl_time"))
    except ValueError as exc:
        errors.add(number, "setl_time", str(exc), value=_text(raw.get("setl_time")))
    for name, allowed in CODE_FIELDS.items():
        value = _text(raw.get(name))
        if name == "place":
            allowed = ctx.places
        if name == "hosp_lv" and value:
            value = value.upper()
        if value and value not in allowed:
            errors.add(number, name, "bad_code", value=value, allowed=", ".join(allowed))
        elif not value and name == "claim_kind":
            errors.add(number, name, "required")
        values[name] = value
    designated = _text(raw.get("designated")).lower()
    if designated and designated not in BOOLEANS:
        errors.add(number, "designated", "not_boolean", value=designated)
    values["designated"] = BOOLEANS.get(designated)
    for name in SETTLEMENT_AMOUNTS:
        try:
            values[name] = parse_amount(raw.get(name))
        except ValueError as exc:
            errors.add(number, name, str(exc), value=_text(raw.get(name)))
            values[name] = None
    try:
        ratio = Decimal(_text(raw.get("pool_prop_selfpay")) or "0")
        if not ratio.is_finite() or not (0 <= ratio <= 1) or ratio != ratio.quantize(Decimal("0.0001")):
            raise InvalidOperation
        values["pool_prop_selfpay"] = ratio
    except InvalidOperation:
        errors.add(number, "pool_prop_selfpay", "not_ratio", value=_text(raw.get("pool_prop_selfpay")))
    parts = ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt")
    if values["medfee_sumamt"] is not None and all(values[p] is not None for p in parts):
        total = sum((values[p] for p in parts), Decimal("0.00"))
        if abs(values["medfee_sumamt"] - total) > MONEY_TOLERANCE:
            errors.add(number, "medfee_sumamt", "identity", medfee=values["medfee_sumamt"], parts=total,
                       diff=abs(values["medfee_sumamt"] - total))
    if (_text(raw.get("hifp_pay")) and _text(raw.get("inscp_scp_amt")) and values["hifp_pay"] is not None
            and values["inscp_scp_amt"] is not None and values["hifp_pay"] > values["inscp_scp_amt"]):
        errors.add(number, "hifp_pay", "hifp_above_scope", hifp=values["hifp_pay"], inscp=values["inscp_scp_amt"])
    if values["fixmedins_code"]:
        if not ctx.hospital:
            ctx.hospital[:] = [values["fixmedins_code"], values["fixmedins_name"]]
        elif values["fixmedins_code"] != ctx.hospital[0]:
            errors.add(number, "fixmedins_code", "other_hospital", value=values["fixmedins_code"], expected=ctx.hospital[0])
    values["_certno"] = certno
    return values if errors.count == before else None


# --- chunks: persons, enrollments, known settlements ---------------------------------------


@dataclass
class ChunkRow:
    number: int
    values: dict
    person_id: int | None = None
    area_id: int | None = None
    existing: bool = False


def resolve_chunk(rows: list[ChunkRow], ctx: RowContext, scope: frozenset | None, errors: RowErrors) -> list[ChunkRow]:
    """Check a chunk's persons, enrollments and known setl_ids with a few queries; returns the
    rows to create (rows identical to stored settlements are marked `existing`)."""
    psn_nos = {r.values["psn_no"] for r in rows if r.values["psn_no"]}
    certnos = {r.values["_certno"] for r in rows if r.values["_certno"]}
    by_psn, by_cert = {}, {}
    for pk, psn_no, certno in InsuredPerson.objects.filter(Q(psn_no__in=psn_nos) | Q(certno__in=certnos)).values_list(
        "pk", "psn_no", "certno"
    ):
        if psn_no:
            by_psn[psn_no] = pk
        by_cert[certno] = pk
    enrolled = dict(
        Enrollment.objects.in_force()
        .filter(contract=ctx.contract, person_id__in=set(by_psn.values()) | set(by_cert.values()))
        .values_list("person_id", "area_id")
    )

    timelines = coverage_timelines(contract=ctx.contract, person_ids=list(enrolled))
    known = {
        s["setl_id"]: s
        for s in Settlement.objects.filter(setl_id__in=[r.values["setl_id"] for r in rows]).values(
            "setl_id", "contract_id", "source", "person_id", *COMPARED_FIELDS
        )
    }
    out = []
    for row in rows:
        v, number = row.values, row.number
        person_psn = by_psn.get(v["psn_no"]) if v["psn_no"] else None
        person_cert = by_cert.get(v["_certno"]) if v["_certno"] else None
        if v["psn_no"] and person_psn is None:
            errors.add(number, "psn_no", "unknown_person", value=v["psn_no"])
            continue
        if v["_certno"] and person_cert is None:
            errors.add(number, "certno", "unknown_person", value=_mask(v["_certno"]))
            continue
        if person_psn and person_cert and person_psn != person_cert:
            errors.add(number, "certno", "person_mismatch")
            continue
        row.person_id = person_psn or person_cert
        row.area_id = enrolled.get(row.person_id)
        if row.area_id is None:
            errors.add(number, "psn_no" if v["psn_no"] else "certno", "not_enrolled", contract=ctx.contract.name)
            continue
        coverage = timelines[row.person_id].on(v["enddate"])
        if not coverage.covered:  # discharged where the person was not covered (the period named)
            errors.add(number, "enddate", "not_covered", reason=coverage.reason, on=coverage.on,
                       start=coverage.period_from or "", end=coverage.period_to or "")
            continue
        if scope is not None and row.area_id not in scope:
            errors.add(number, "psn_no" if v["psn_no"] else "certno", "out_of_scope",
                       area=Area.objects.get(pk=row.area_id).name)
            continue
        stored = known.get(v["setl_id"])
        if stored is not None:
            if stored["contract_id"] != ctx.contract.pk or stored["source"] != Settlement.Source.INSTANT:
                errors.add(number, "setl_id", "other_contract", value=v["setl_id"])
                continue
            if stored["person_id"] != row.person_id or any(stored[f] != v[f] for f in COMPARED_FIELDS):
                errors.add(number, "setl_id", "changed_settlement", value=v["setl_id"])
                continue
            row.existing = True
        out.append(row)
    return out


def _mask(certno: str) -> str:
    return mask_certno(certno)


@dataclass
class ScanResult:
    rows: int = 0
    new: int = 0
    unchanged: int = 0
    hospital: tuple[str, str] = ("", "")
    preview: list | None = None


def scan(
    batch: HospitalBatch,
    errors: RowErrors,
    *,
    on_rows: Callable[[list[ChunkRow]], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScanResult:
    """Stream the batch's file once: clean every row, check it against the database in
    chunks, and hand the rows to create to `on_rows` (the import) chunk by chunk. The rows
    rejected go to `errors.rejected` when it is given (a window of rows, valid and rejected,
    at most CHUNK, is checked at a time, so that they are written in line order)."""
    rejected = errors.rejected
    path = batch.file.path
    fmt = batch.file_format
    result = ScanResult(preview=[])
    try:
        encoding = detect_encoding(path) if fmt == "csv" else ""
        if fmt == "csv" and batch.encoding != encoding:
            batch.encoding = encoding
        ctx = RowContext.for_contract(batch.contract)
        scope = area_scope_ids(batch.uploaded_by)
        seen: dict[str, int] = {}
        chunk: list[ChunkRow] = []
        rows = iter_rows(path, fmt, encoding)
        header_checked = False
        for number, raw in rows:
            if not header_checked:
                header_checked = True
                _check_header(raw.keys(), batch.contract, errors)
                if errors:
                    return result
            result.rows += 1
            if rejected is not None:
                rejected.read(number, raw)
            if len(result.preview) < PREVIEW_ROWS:
                result.preview.append({k: _storable(_text(raw.get(k))) for k in KNOWN_COLUMNS if k in raw})
            values = clean_row(number, raw, ctx, errors)
            if values is not None:
                first = seen.setdefault(values["setl_id"], number)
                if first != number:
                    errors.add(number, "setl_id", "duplicate_setl_id", value=values["setl_id"], first=first)
                else:
                    chunk.append(ChunkRow(number, values))
            if len(chunk) >= CHUNK or (rejected is not None and len(rejected) >= CHUNK):
                _flush(chunk, ctx, scope, errors, result, on_rows)
                chunk = []
                if progress:
                    progress(result.rows)
        if not header_checked:
            raise _refused("empty")
        _flush(chunk, ctx, scope, errors, result, on_rows)
        if progress:
            progress(result.rows)
        if ctx.hospital:
            result.hospital = (ctx.hospital[0], ctx.hospital[1])
    except ImportRefused as exc:
        errors.add(None, exc.column, exc.code, **exc.params)
    except (csv.Error, UnicodeDecodeError) as exc:
        errors.add(None, "", "unreadable", detail=str(exc)[:200])
    return result


def _check_header(columns, contract: Contract, errors: RowErrors) -> None:
    present = set(columns)
    for column in required_columns(contract):
        if column not in present:
            errors.add(1, column, "missing_column", name=column)
    if "psn_no" not in present and "certno" not in present:
        errors.add(1, "psn_no", "missing_identity")


def _flush(chunk, ctx, scope, errors, result: ScanResult, on_rows) -> None:
    if not chunk:
        if errors.rejected is not None:
            errors.rejected.flush()
        return
    rows = resolve_chunk(chunk, ctx, scope, errors)
    new = [r for r in rows if not r.existing]
    result.new += len(new)
    result.unchanged += len(rows) - len(new)
    if errors.rejected is not None:
        errors.rejected.flush()
    if on_rows and not errors:
        on_rows(new)
