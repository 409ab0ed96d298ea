"""Resident ID numbers (居民身份证号码) per GB 11643-1999: 6-digit area, 8-digit birth date,
3-digit sequence (odd = male), ISO 7064 MOD 11-2 check character."""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
# Province-level codes of GB/T 2260 (first two digits).
_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82".split()
)
MALE, FEMALE = "1", "2"  # national platform `gend` codes


def normalize_certno(value: str) -> str:
    """Strip blanks, read full-width digits as digits (NFKC) and upper-case a trailing x, as
    people type it at the window: the stored number is always 18 ASCII characters."""
    return unicodedata.normalize("NFKC", value or "").strip().replace(" ", "").upper()


def check_char(first17: str) -> str:
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def with_check_char(first17: str) -> str:
    """Complete a 17-digit prefix to a valid number (demo data and tests)."""
    return first17 + check_char(first17)


def parse_certno(value: str, *, today: dt.date | None = None) -> tuple[dt.date, str]:
    """Return (birth date, sex code) of a valid number or raise ValidationError in Chinese."""
    certno = normalize_certno(value)
    if len(certno) != 18:
        raise ValidationError(
            _("ID number must have 18 characters, got %(n)d.") % {"n": len(certno)},
            code="certno_length",
        )
    if not _SHAPE.match(certno):
        raise ValidationError(
            _("ID number must be 17 digits followed by a digit or X."), code="certno_shape"
        )
    if certno[:2] not in _PROVINCES:
        raise ValidationError(
            _("ID number starts with an unknown province code %(code)s.") % {"code": certno[:2]},
            code="certno_area",
        )
    try:
        birth = dt.date(int(certno[6:10]), int(certno[10:12]), int(certno[12:14]))
    except ValueError:
        raise ValidationError(
            _("ID number contains an impossible birth date %(d)s.") % {"d": certno[6:14]},
            code="certno_birth_date",
        ) from None
    today = today or dt.date.today()
    if birth > today or birth.year < 1890:
        raise ValidationError(
            _("ID number contains an impossible birth date %(d)s.") % {"d": certno[6:14]},
            code="certno_birth_date",
        )
    expected = check_char(certno[:17])
    if certno[17] != expected:
        # never the right digit: it would turn a guessed ID number into a valid one
        raise ValidationError(_("ID number check digit is wrong."), code="certno_check_digit")
    sex = MALE if int(certno[16]) % 2 == 1 else FEMALE
    return birth, sex


def validate_certno(value: str) -> None:
    parse_certno(value)


def looks_like_certno(value: str) -> bool:
    """A search term meant as an ID number (even a wrong one) rather than a name."""
    v = normalize_certno(value)
    return 15 <= len(v) <= 18 and bool(re.fullmatch(r"\d+X?", v))
