"""The HTTP SMS gateway backend against a real local HTTP server: what it posts, what a 2xx,
a 5xx, a 4xx, a timeout and a refused connection do to the notification, the task's retries
and the operator's resend."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from programs import services, sms
from programs.models import SmsNotification
from programs.tasks import sms_send_task
from tests.factories import EnrollmentFactory, UserFactory

pytestmark = pytest.mark.django_db


class Gateway:
    """A local SMS gateway: answers the queued (status, body) pairs in turn, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes]] = []
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                gateway.requests.append({"path": self.path, "headers": dict(self.headers),
                                         "body": json.loads(self.rfile.read(length).decode("utf-8"))})
                if gateway.delay:
                    threading.Event().wait(gateway.delay)
                status, body = gateway.answers.pop(0) if gateway.answers else (200, b'{"message_id": "gw-1"}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    server = Gateway()
    settings.SMS_BACKEND = "programs.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_TOKEN = "s3cret"
    settings.SMS_GATEWAY_SIGN = "通辽医保"
    settings.SMS_GATEWAY_TIMEOUT = 0.5
    settings.SMS_MAX_ATTEMPTS = 3
    yield server
    server.close()


def queued(key="enrollment-superseded:1", phone="13800138000") -> SmsNotification:
    enrollment = EnrollmentFactory(person__phone=phone)
    return SmsNotification.objects.create(key=key, person=enrollment.person, enrollment=enrollment,
                                          phone=phone, message="【通辽】您的个人保单已于2025-03-01自动退保。")


def test_a_message_is_posted_with_its_key_token_and_sign_and_marked_sent(gateway):
    notification = queued()
    sent = services.sms_notification_send(notification_id=notification.pk)
    assert (sent.status, sent.attempts, sent.message_id, sent.error) == ("sent", 1, "gw-1", "")
    assert sent.backend == "programs.sms.HttpGatewayBackend" and sent.sent_at is not None
    [request] = gateway.requests
    assert request["path"] == "/sms/send"
    assert request["headers"]["Authorization"] == "Bearer s3cret"
    assert request["headers"]["Idempotency-Key"] == "enrollment-superseded:1"
    assert request["body"] == {"id": "enrollment-superseded:1", "phone": "13800138000", "sign": "通辽医保",
                               "message": "【通辽】您的个人保单已于2025-03-01自动退保。"}
    assert services.sms_notification_send(notification_id=notification.pk) is None  # never twice
    assert len(gateway.requests) == 1


def test_a_busy_gateway_leaves_the_message_queued_until_the_last_attempt(gateway):
    gateway.answers = [(503, b"busy"), (503, b"still busy"), (503, b"down")]
    notification = queued()
    first = services.sms_notification_send(notification_id=notification.pk)
    assert (first.status, first.attempts) == ("queued", 1)
    assert first.error == "SMS gateway answered HTTP 503: busy"
    second = services.sms_notification_send(notification_id=notification.pk)
    assert (second.status, second.attempts) == ("queued", 2)
    last = services.sms_notification_send(notification_id=notification.pk)
    assert (last.status, last.attempts, last.error) == ("failed", 3, "SMS gateway answered HTTP 503: down")
    assert last.sent_at is None and len(gateway.requests) == 3


def test_a_refusal_fails_at_once_with_the_gateways_words(gateway):
    gateway.answers = [(400, '{"error": "号码格式错误"}'.encode())]
    failed = services.sms_notification_send(notification_id=queued().pk)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error == 'SMS gateway answered HTTP 400: {"error": "号码格式错误"}'


def test_a_slow_gateway_is_a_timeout_and_tried_again(gateway):
    gateway.delay = 2.0
    slow = services.sms_notification_send(notification_id=queued().pk)
    assert (slow.status, slow.attempts) == ("queued", 1)
    assert slow.error.startswith("SMS gateway unreachable:") and "timed out" in slow.error


def test_a_gateway_that_is_not_there_is_tried_again(settings, gateway):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{probe.getsockname()[1]}/sms"
    down = services.sms_notification_send(notification_id=queued().pk)
    assert (down.status, down.attempts) == ("queued", 1)
    assert down.error.startswith("SMS gateway unreachable:") and "refused" in down.error.lower()


def test_the_task_retries_with_growing_waits_and_stops_at_the_limit(gateway, monkeypatch):
    gateway.answers = [(502, b"bad gateway"), (200, b"{}")]
    waits = []

    def retry(countdown=None, **kwargs):
        waits.append(countdown)
        return RuntimeError("retry")  # raised by the task, as Celery's Retry would be

    monkeypatch.setattr(sms_send_task._get_current_object(), "retry", retry)
    notification = queued()
    with pytest.raises(RuntimeError, match="retry"):
        sms_send_task.run(notification.pk)
    assert waits == [60]
    assert sms_send_task.run(notification.pk) == "sent"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.message_id) == ("sent", 2, "")
    gateway.answers = [(503, b"x")] * 3
    other = queued(key="k2")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            sms_send_task.run(other.pk)
    assert sms_send_task.run(other.pk) == "failed"
    assert waits == [60, 60, 120]


def test_without_a_url_the_gateway_backend_refuses_to_start(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SMS_GATEWAY_URL = ""
    with pytest.raises(ImproperlyConfigured):
        sms.HttpGatewayBackend()


def test_the_administrator_sends_failed_messages_again_and_nobody_else_can(gateway, client,
                                                                           django_capture_on_commit_callbacks):
    failed = services.sms_notification_send(notification_id=queued(phone="").pk)
    assert (failed.status, failed.error) == ("failed", "未登记手机号码。")
    failed.person.phone = "13700001111"  # the caseworker adds the number
    failed.person.save()
    sent = queued(key="k-sent")
    services.sms_notification_send(notification_id=sent.pk)
    url = reverse("admin:programs_smsnotification_changelist")
    supervisor = UserFactory(username="sup", role="supervisor", area_codes=["150502"])
    client.force_login(supervisor)
    assert "resend_failed" not in client.get(url).content.decode()  # not offered to a supervisor
    response = client.post(url, {"action": "resend_failed", "_selected_action": [failed.pk]})
    assert response.status_code == 200  # and refused when posted anyway: nothing happens
    failed.refresh_from_db()
    assert failed.status == "failed"
    admin = UserFactory(username="sysadmin", role="administrator", area_codes=["150502"])
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"action": "resend_failed", "_selected_action": [failed.pk, sent.pk]},
                               follow=True)
    assert "已将 1 条短信重新排队发送。" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error, failed.phone) == ("queued", 0, "", "13700001111")
    assert len(callbacks) == 1  # one task, for the failed message only
    resent = services.sms_notification_send(notification_id=failed.pk)
    assert (resent.status, resent.attempts) == ("sent", 1)
    assert gateway.requests[-1]["body"]["phone"] == "13700001111"


def test_the_console_backend_logs_the_number_masked(caplog):
    import logging

    from insurance_admin.core.masking import mask_phone

    assert (mask_phone("13800138000"), mask_phone("12345")) == ("138****8000", "****")
    with caplog.at_level(logging.INFO, logger="programs.sms"):
        sms.ConsoleBackend().send("13800138000", "您好", key="k9")
    assert caplog.messages == ["SMS k9 to 138****8000: 您好"]
