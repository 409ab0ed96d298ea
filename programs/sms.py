"""Pluggable SMS backends, chosen by the `SMS_BACKEND` setting (a dotted class path).

The embedded default prints to the worker's log (console); tests use the in-memory outbox;
production plugs in the provider's gateway with the same one-method interface.
"""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "programs.sms.ConsoleBackend"


class BaseBackend:
    def send(self, phone: str, message: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes the message to the log instead of sending it (embedded default)."""

    def send(self, phone: str, message: str) -> None:
        logger.info("SMS to %s: %s", phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****", message)


class LocmemBackend(BaseBackend):
    """Keeps sent messages in `outbox` (tests)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        LocmemBackend.outbox.append((phone, message))


def get_backend() -> BaseBackend:
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()
