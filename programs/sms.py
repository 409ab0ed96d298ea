"""Pluggable SMS backends, chosen by the `SMS_BACKEND` setting (a dotted class path).

The embedded default prints to the worker's log (console); tests use the in-memory outbox;
production points `HttpGatewayBackend` at the office's SMS gateway (统一消息平台) or a
provider's HTTP adapter. A backend has one method, `send(phone, message, key=)`, returning the
gateway's message id (or None) and raising `SmsError` when the message was not accepted —
`transient` errors (timeouts, 5xx, 429) are tried again by the task, others fail at once.
"""

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from insurance_admin.core.masking import mask_phone

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "programs.sms.ConsoleBackend"


class SmsError(Exception):
    """The backend did not hand the message over. `transient`: worth trying again later."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


class BaseBackend:
    def send(self, phone: str, message: str, *, key: str) -> str | None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Writes the message to the log instead of sending it (embedded default)."""

    def send(self, phone: str, message: str, *, key: str) -> str | None:
        logger.info("SMS %s to %s: %s", key, mask_phone(phone), message)
        return None


class LocmemBackend(BaseBackend):
    """Keeps sent messages in `outbox` (tests)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str, *, key: str) -> str | None:
        LocmemBackend.outbox.append((phone, message))
        return None


class HttpGatewayBackend(BaseBackend):
    """POSTs each message as JSON to `SMS_GATEWAY_URL`:

        {"id": "<notification key>", "phone": "138…", "sign": "<SMS_GATEWAY_SIGN>", "message": "…"}

    with `Authorization: Bearer <SMS_GATEWAY_TOKEN>` and `Idempotency-Key: <key>`. The key is
    the notification's own unique key, so a message re-sent after a worker died between the
    gateway's answer and our commit is recognised by the gateway as the same one. Any 2xx is
    accepted (`{"message_id": …}` in the body is kept when present); 408, 429, 5xx, timeouts and
    refused connections are transient; other answers are final (a wrong number, a rejected
    text), with the gateway's words in the error."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None,
                 sign: str | None = None):
        self.url = url or settings.SMS_GATEWAY_URL
        if not self.url:
            raise ImproperlyConfigured("HttpGatewayBackend needs SMS_GATEWAY_URL.")
        self.token = token if token is not None else settings.SMS_GATEWAY_TOKEN
        self.timeout = timeout or settings.SMS_GATEWAY_TIMEOUT
        self.sign = sign if sign is not None else settings.SMS_GATEWAY_SIGN

    def send(self, phone: str, message: str, *, key: str) -> str | None:
        body = json.dumps({"id": key, "phone": phone, "sign": self.sign, "message": message},
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read(10_000)
        except urllib.error.HTTPError as exc:
            detail = exc.read(500).decode("utf-8", "replace").strip()
            transient = exc.code in (408, 429) or exc.code >= 500
            raise SmsError(f"SMS gateway answered HTTP {exc.code}: {detail}"[:1000], transient=transient) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SmsError(f"SMS gateway unreachable: {reason}"[:1000], transient=True) from None
        try:
            message_id = json.loads(answer or b"{}").get("message_id")
        except (ValueError, AttributeError):
            message_id = None
        return None if message_id in (None, "") else str(message_id)[:100]


def get_backend() -> BaseBackend:
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()
