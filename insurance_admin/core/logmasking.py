"""No full ID number in a log line. Request lines carry search terms (`/?q=<ID number>`,
`?psn_no=...`), and access logs keep them for months: every handler of the project's logging
(settings.LOGGING: the root console handler and Django's development server) and gunicorn's
access and error loggers (attached in `CoreConfig.ready`) pass records through
`IdentityMaskingFilter`, which masks 18- and 15-character resident ID numbers anywhere in the
message, and the values of person-identifying query parameters, as `mask_certno` does
(1505**********1234). Free of Django imports: gunicorn can load it before the app."""

from __future__ import annotations

import logging
import re

# 17 digits and a check character, or the old 15-digit number, not inside a longer run of
# digits or letters (a bank account, a hash)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
# person-identifying query parameters, whatever their value looks like
IDENTIFYING_PARAMS = re.compile(r"(?i)(?<![0-9A-Za-z_])((?:psn_no|certno|idno|id_no|sfzh)=)([^&\s\"']+)")
GUNICORN_LOGGERS = ("gunicorn.access", "gunicorn.error")


def _mask(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_identities(text: str) -> str:
    text = IDENTIFYING_PARAMS.sub(lambda m: m.group(1) + _mask(m.group(2)), text)
    return ID_NUMBER.sub(lambda m: _mask(m.group(0)), text)


class IdentityMaskingFilter(logging.Filter):
    """Masks ID numbers in the formatted message (message and arguments alike); never drops a
    record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = mask_identities(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def attach_to_gunicorn() -> None:
    """gunicorn's own loggers are not configured by settings.LOGGING (configuring them there
    would drop gunicorn's handlers): the filter goes on the loggers themselves, once."""
    for name in GUNICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, IdentityMaskingFilter) for f in logger.filters):
            logger.addFilter(IdentityMaskingFilter())
