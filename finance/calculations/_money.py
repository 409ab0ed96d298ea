"""Moved to `programs.money` (issue 18: money helpers once). Re-exported here only so that code
written against the old path still imports; new code imports from `programs.money`."""

from programs.money import (  # noqa: F401
    CENT,
    CONTEXT,
    HUNDRED,
    NIL,
    ONE,
    ZERO,
    exact,
    fmt_money,
    fmt_share,
    percent,
    share_of,
    to_amount,
    to_decimal,
    to_money,
    to_rate,
)
