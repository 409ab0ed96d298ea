"""Checking one row of an enrollment list: the rules, their code tables and the reasons.

This is the one statement of the rules. XLSX lists and the admin's small-file import call it
row by row; CSV lists are read column by column (`programs.registry.columnar`), which decides
only the plainly valid rows itself and hands every other row to `check_row`, so a reason reads
the same whichever path found it."""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from ..identity import _PROVINCES, _SHAPE, check_char, normalize_certno
from .files import FIELDS

CATEGORY_CODES: dict[str, tuple[str, str]] = {
    "": ("ordinary", ""),
    "1": ("ordinary", ""),
    "ordinary": ("ordinary", ""),
    "普通": ("ordinary", ""),
    "普通居民": ("ordinary", ""),
    "2": ("special", ""),
    "special": ("special", ""),
    "特殊": ("special", ""),
    "特困": ("special", "特困"),
    "孤儿": ("special", "孤儿"),
    "低保": ("special", "低保"),
    "低保残疾": ("special", "低保残疾"),
    "返贫致贫": ("special", "返贫致贫"),
}
EMPLOYMENT_CODES: dict[str, str] = {
    "": "active", "1": "active", "active": "active", "在职": "active",
    "2": "retired", "retired": "retired", "退休": "retired",
}
STATUS_CODES: dict[str, str] = {
    "": "active", "1": "active", "active": "active", "正常参保": "active", "参保缴费": "active",
    "2": "suspended", "suspended": "suspended", "暂停参保": "suspended",
    "4": "terminated", "terminated": "terminated", "终止参保": "terminated",
}
SEX_CODES: dict[str, str] = {"1": "1", "男": "1", "male": "1", "m": "1", "2": "2", "女": "2", "female": "2", "f": "2"}


def reasons() -> dict[str, str]:
    """Reason templates in the active language; `{name}` placeholders are filled per row."""
    return {
        "name_missing": _("Name is missing."),
        "name_long": _("Name is longer than 60 characters."),
        "certno_length": _("ID number must have 18 characters, got {n}."),
        "certno_shape": _("ID number must be 17 digits followed by a digit or X."),
        "certno_province": _("ID number starts with an unknown province code {code}."),
        "certno_date": _("ID number contains an impossible birth date {date}."),
        "certno_future": _("ID number contains a birth date in the future: {date}."),
        # never the right digit: it would turn a guessed ID number into a valid one
        "certno_check": _("ID number check digit is wrong."),
        "brdy_format": _("Birth date {value} is not a date (YYYY-MM-DD or YYYYMMDD)."),
        "brdy_future": _("Birth date {value} is in the future."),
        "brdy_mismatch": _("Birth date {value} does not match the ID number ({id_date})."),
        "gend_unknown": _("Unknown sex code {value}."),
        "gend_mismatch": _("Sex code {value} does not match the ID number."),
        "area_unknown": _("Area {value} is not covered by this contract."),
        "area_scope": _("Area {value} is outside your areas."),
        "category": _("Unknown category {value}."),
        "employment": _("Unknown employment code {value}."),
        "status": _("Unknown enrollment status {value}."),
        "begin_format": _("Start date {value} is not a date."),
        "begin_outside": _("Start date {value} is after the contract period."),
        "end_format": _("End date {value} is not a date."),
        "end_before": _("End date {value} is before the start date."),
        "psn_no_long": _("Person number {value} is longer than 30 characters."),
        "duplicate": _("Duplicate of line {line} in this file."),
        "psn_no_duplicate": _("Person number {value} also appears on line {line} with another ID number."),
        "psn_no_taken": _("Person number {value} belongs to another person in the registry."),
    }


def digits8(value: str) -> str | None:
    """YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD -> YYYYMMDD, else None."""
    v = value.strip().replace("-", "").replace("/", "")
    return v if len(v) == 8 and v.isdigit() else None


def date8(v: str) -> dt.date | None:
    try:
        return dt.date(int(v[:4]), int(v[4:6]), int(v[6:8]))
    except ValueError:
        return None


@dataclass(frozen=True)
class RowContext:
    """What a row is checked against: the contract's areas and period, the uploader's scope."""

    area_ids: dict[str, int]  # area code and name -> id (county-level areas of the contract)
    scope: frozenset[int] | None  # area ids the uploader may import into; None: all
    period_start: dt.date
    period_end: dt.date
    effective_date: dt.date
    today: dt.date


@dataclass
class CheckedRow:
    certno: str
    psn_no: str | None
    name: str
    sex: str
    birth_date: dt.date
    area_id: int
    category: str
    category_detail: str
    employment: str
    status: str
    enrolled_from: dt.date
    enrolled_to: dt.date | None


# The checked values of a row as staged (name, SQL type), in `stage_values` order after the reason.
CHECKED = (
    ("c_certno", "text"),
    ("c_psn_no", "text"),
    ("c_name", "text"),
    ("sex", "text"),
    ("birth_date", "date"),
    ("area_id", "bigint"),
    ("category", "text"),
    ("category_detail", "text"),
    ("employment", "text"),
    ("status", "text"),
    ("enrolled_from", "date"),
    ("enrolled_to", "date"),
)

# A checked row while the list is read; then the valid rows keep only their checked values (the
# stage table) and the rejected ones their raw values, reason and duplicate kind.
STAGE_COLUMNS = ("line_no", *FIELDS, "reason", *(c for c, _t in CHECKED))
VALID_COLUMNS = ("line_no", *(c for c, _t in CHECKED))
REJECTED_COLUMNS = (*STAGE_COLUMNS, "dup")


def stage_values(reason: str | None, row: "CheckedRow | None", certno_given: str) -> tuple:
    """`check_row`'s answer as (reason, *checked values in `CHECKED` order):
    a rejected row keeps its reason and normalised ID number only."""
    if row is None:
        return (reason, normalize_certno(certno_given), *([None] * 11))
    return (None, row.certno, row.psn_no, row.name, row.sex, row.birth_date, row.area_id, row.category,
            row.category_detail, row.employment, row.status, row.enrolled_from, row.enrolled_to)


def check_row(values: tuple[str, ...], ctx: RowContext, texts: dict[str, str]) -> tuple[str | None, CheckedRow | None]:
    """(reason, None) for a rejected row, (None, CheckedRow) for a valid one. `values` in
    `files.FIELDS` order. Only the first problem found is reported."""
    psn_no, certno_raw, name, gend, brdy, admdvs, psn_type, emp_type, stas, begn, end = values
    name = name.strip()
    if not name:
        return texts["name_missing"], None
    if len(name) > 60:
        return texts["name_long"], None
    certno = normalize_certno(certno_raw)
    if len(certno) != 18:
        return texts["certno_length"].format(n=len(certno)), None
    if not _SHAPE.match(certno):
        return texts["certno_shape"], None
    if certno[:2] not in _PROVINCES:
        return texts["certno_province"].format(code=certno[:2]), None
    birth = date8(certno[6:14])
    if birth is None or birth.year < 1890:
        return texts["certno_date"].format(date=certno[6:14]), None
    if birth > ctx.today:
        return texts["certno_future"].format(date=certno[6:14]), None
    expected = check_char(certno[:17])
    if certno[17] != expected:
        return texts["certno_check"], None
    b8 = digits8(brdy)
    if b8 is None or date8(b8) is None:
        return texts["brdy_format"].format(value=brdy), None
    if b8 > f"{ctx.today:%Y%m%d}":
        return texts["brdy_future"].format(value=brdy), None
    if b8 != certno[6:14]:
        return texts["brdy_mismatch"].format(value=brdy, id_date=birth.isoformat()), None
    sex = SEX_CODES.get(gend.strip().lower())
    if sex is None:
        return texts["gend_unknown"].format(value=gend), None
    id_sex = "1" if int(certno[16]) % 2 else "2"
    if sex != id_sex:
        return texts["gend_mismatch"].format(value=gend), None
    area_id = ctx.area_ids.get(admdvs.strip())
    if area_id is None:
        return texts["area_unknown"].format(value=admdvs), None
    if ctx.scope is not None and area_id not in ctx.scope:
        return texts["area_scope"].format(value=admdvs), None
    cat = CATEGORY_CODES.get(psn_type.strip().lower())
    if cat is None:
        return texts["category"].format(value=psn_type), None
    employment = EMPLOYMENT_CODES.get(emp_type.strip().lower())
    if employment is None:
        return texts["employment"].format(value=emp_type), None
    status = STATUS_CODES.get(stas.strip().lower())
    if status is None:
        return texts["status"].format(value=stas), None
    if begn.strip():
        d8 = digits8(begn)
        start = date8(d8) if d8 else None
        if start is None:
            return texts["begin_format"].format(value=begn), None
        if start > ctx.period_end:
            return texts["begin_outside"].format(value=begn), None
        start = max(start, ctx.period_start)
    else:
        start = max(ctx.effective_date, ctx.period_start)
    finish = None
    if end.strip():
        d8 = digits8(end)
        finish = date8(d8) if d8 else None
        if finish is None:
            return texts["end_format"].format(value=end), None
        if finish < start:
            return texts["end_before"].format(value=end), None
        if finish >= ctx.period_end:
            finish = None
    if status == "terminated" and finish is None:
        finish = max(start, ctx.effective_date - dt.timedelta(days=1))
    psn_no = psn_no.strip() or None
    if psn_no and len(psn_no) > 30:
        return texts["psn_no_long"].format(value=psn_no), None
    return None, CheckedRow(
        certno=certno,
        psn_no=psn_no,
        name=name,
        sex=id_sex,
        birth_date=birth,
        area_id=area_id,
        category=cat[0],
        category_detail=cat[1],
        employment=employment,
        status=status,
        enrolled_from=start,
        enrolled_to=finish,
    )
