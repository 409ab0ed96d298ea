"""The daily deadline scan (issue 20): states recomputed, reminders and escalations into the
inbox and by e-mail exactly once, on beat at 06:00 Asia/Shanghai."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from claims import registration
from claims.models import Claim
from insurance_admin.core.deadlines import deadlines_scan
from insurance_admin.core.models import Deadline, Notification
from insurance_admin.core.tasks import deadlines_scan as deadlines_scan_task
from programs.models import Contract
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def claim(caseworker, horqin_person, settings):
    """A Tongliao local claim complete on 2025-09-26: due 2025-10-16, reminded 3 days before."""
    settings.DEADLINE_DUE_SOON_DAYS = {"default": 5, "claim_service": 3}
    settings.DEADLINE_ESCALATE_AFTER_DAYS = 3
    caseworker.email = "cw@example.cn"
    caseworker.save()
    contract = Contract.objects.get(code="tongliao-2025")
    docs = registration.requirements_for(program=contract.program, claim_kind="inpatient", place="in_region")
    return registration.claim_register(
        user=caseworker, person=horqin_person, contract=contract, claim_kind="inpatient", place="in_region",
        fixmedins_code="H1", fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
        records=[{"setl_id": "M-S1", "medfee_sumamt": D("52000.00"), "inscp_scp_amt": D("52000.00"), "hifp_pay": D("30000.00")}],
        documents=docs, received_on=dt.date(2025, 9, 26))


def inbox():
    return sorted(Notification.objects.values_list("recipient__username", "stage"))


def test_a_reminder_is_created_and_mailed_once_when_the_scan_runs_twice(claim, caseworker_kailu):
    assert deadlines_scan(today=dt.date(2025, 10, 12)).notifications_created == 0  # upcoming
    first = deadlines_scan(today=dt.date(2025, 10, 13))
    again = deadlines_scan(today=dt.date(2025, 10, 13))
    assert (first.notifications_created, first.emails_sent) == (1, 1)
    assert (again.states_changed, again.notifications_created, again.emails_sent) == (0, 0, 0)
    assert inbox() == [("cw_horqin", "due_soon")]  # not the 开鲁县 caseworker
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["cw@example.cn"]
    assert claim.claim_no in mail.outbox[0].body and f"/claims/{claim.pk}/" in mail.outbox[0].body
    assert Deadline.objects.get().state == "due_soon"


def test_overdue_goes_to_the_caseworker_then_escalates_to_the_areas_supervisor(claim, supervisor):
    UserFactory(username="sup_kailu", role="supervisor", area_codes=["150523"])
    deadlines_scan(today=dt.date(2025, 10, 17))
    assert inbox() == [("cw_horqin", "overdue")]  # a late first scan sends no stale "due soon"
    assert Deadline.objects.get().state == "overdue"
    deadlines_scan(today=dt.date(2025, 10, 18))
    assert inbox() == [("cw_horqin", "overdue")]
    deadlines_scan(today=dt.date(2025, 10, 19))  # 3 days overdue: the region's supervisor
    deadlines_scan(today=dt.date(2025, 10, 20))
    assert inbox() == [("cw_horqin", "overdue"), ("sup", "escalated")]
    text = Notification.objects.get(stage="escalated").text
    assert claim.claim_no in text and "2025-10-16" in text


def test_a_paid_claim_is_never_reminded(claim, reviewer):
    finance = UserFactory(role="finance", area_codes=["150500"])
    from claims.workflow import claim_transition

    S = Claim.Status
    c = claim_transition(claim=claim, to=S.CALCULATED, user=claim.registered_by)
    c = claim_transition(claim=c, to=S.SUBMITTED, user=claim.registered_by)
    c = claim_transition(claim=c, to=S.APPROVED, user=reviewer)
    if not c.bank_account:
        Claim.objects.filter(pk=c.pk).update(bank_account="6222020200001234567")
    claim_transition(claim=c, to=S.PAID, user=finance, paid_on=dt.date(2025, 10, 14), voucher_no="PZ-001")
    deadlines_scan(today=dt.date(2025, 10, 30))  # a scan for a past day: met by now, so no reminder
    assert inbox() == []
    deadlines_scan()
    assert inbox() == [] and Deadline.objects.get().state == "met"


def test_the_task_runs_the_scan_for_a_given_day(claim):
    result = deadlines_scan_task(today_iso="2025-10-14")
    assert result == {"today": "2025-10-14", "states_changed": 1, "notifications_created": 1, "emails_sent": 1}


def test_a_failed_mail_is_sent_by_the_next_scan_not_lost(claim, monkeypatch):
    from insurance_admin.core import deadlines as module

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(module, "send_mail", broken)
    assert deadlines_scan(today=dt.date(2025, 10, 13)).emails_sent == 0
    assert Notification.objects.get().emailed_at is None
    monkeypatch.undo()
    assert deadlines_scan(today=dt.date(2025, 10, 14)).emails_sent == 1
    assert len(mail.outbox) == 1


# --- the inbox -----------------------------------------------------------------------------


def test_inbox_shows_the_unread_count_in_the_header_marks_read_and_opens_the_claim(client, claim, caseworker):
    deadlines_scan(today=dt.date(2025, 10, 17))
    note = Notification.objects.get()
    client.force_login(caseworker)
    page = client.get(reverse("home")).content.decode()
    assert '<span class="badge bad" id="inbox-unread">1</span>' in page
    page = client.get(reverse("inbox")).content.decode()
    assert claim.claim_no in page
    response = client.post(reverse("inbox_read", args=[note.pk]), {"open": "1"})
    assert (response.status_code, response["Location"]) == (302, f"/claims/{claim.pk}/")
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'id="inbox-unread"' not in client.get(reverse("home")).content.decode()


def test_nobody_marks_another_users_notification(client, claim, caseworker_kailu):
    deadlines_scan(today=dt.date(2025, 10, 17))
    note = Notification.objects.get()
    client.force_login(caseworker_kailu)
    assert client.post(reverse("inbox_read", args=[note.pk])).status_code == 404
    assert client.get(reverse("inbox")).content.decode().count(claim.claim_no) == 0
    note.refresh_from_db()
    assert note.read_at is None


# --- beat ----------------------------------------------------------------------------------


def test_the_daily_scan_is_a_database_crontab_due_at_06_00_shanghai_time(celery_app):
    """django-celery-beat 2.8.0–2.8.1 fired non-UTC crontabs at the wrong hour (#875, #885)."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    celery_app.conf.timezone = settings.CELERY_TIMEZONE
    entry = ModelEntry.from_entry("deadlines-daily-scan", app=celery_app, **settings.CELERY_BEAT_SCHEDULE["deadlines-daily-scan"])
    task = PeriodicTask.objects.get(name="deadlines-daily-scan")
    assert (task.task, task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == (
        "insurance_admin.core.tasks.deadlines_scan", "6", "0", "Asia/Shanghai")
    schedule = entry.schedule
    last_run = dt.datetime(2026, 12, 5, 6, 0, tzinfo=SHANGHAI)

    def due_at(local):
        schedule.nowfun = lambda: local
        return schedule.is_due(last_run).is_due

    assert due_at(dt.datetime(2026, 12, 6, 6, 0, 5, tzinfo=SHANGHAI)) is True
    assert due_at(dt.datetime(2026, 12, 6, 5, 59, tzinfo=SHANGHAI)) is False  # 21:59 UTC
    assert due_at(dt.datetime(2026, 12, 5, 14, 0, tzinfo=SHANGHAI)) is False  # 06:00 UTC is not the hour


@pytest.mark.django_db(transaction=True)
def test_two_workers_scanning_at_once_create_and_mail_each_reminder_once(seeded, settings):
    """Two scans started together (a second beat firing, a redelivered message on another
    worker): the unique key and the e-mail claim leave one inbox row and one e-mail per
    recipient. On PostgreSQL the two really overlap; SQLite serialises their writes."""
    import threading

    from django.db import close_old_connections, connection

    from tests.factories import EnrollmentFactory, PersonFactory

    settings.DEADLINE_DUE_SOON_DAYS = {"default": 5, "claim_service": 3}
    caseworker = UserFactory(username="cw_race", role="caseworker", area_codes=["150502"], email="race@example.cn")
    UserFactory(username="cw_race2", role="caseworker", area_codes=["150500"], email="race2@example.cn")
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person
    contract = Contract.objects.get(code="tongliao-2025")
    registration.claim_register(
        user=caseworker, person=person, contract=contract, claim_kind="inpatient", place="in_region",
        fixmedins_code="H1", fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
        records=[{"setl_id": "M-R1", "medfee_sumamt": D("100.00"), "inscp_scp_amt": D("100.00"), "hifp_pay": D("0")}],
        documents=registration.requirements_for(program=contract.program, claim_kind="inpatient", place="in_region"),
        received_on=dt.date(2025, 9, 26))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def scan():
        try:
            barrier.wait(timeout=10)
            results.append(deadlines_scan(today=dt.date(2025, 10, 14)))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(Notification.objects.values_list("recipient__username", "stage")) == [
        ("cw_race", "due_soon"), ("cw_race2", "due_soon")]
    assert sum(r.emails_sent for r in results) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["race2@example.cn", "race@example.cn"]


def test_a_reminder_whose_deadline_has_been_met_stops_counting_and_says_so(client, claim, caseworker):
    deadlines_scan(today=dt.date(2025, 10, 17))
    client.force_login(caseworker)
    assert '<span class="badge bad" id="inbox-unread">1</span>' in client.get(reverse("home")).content.decode()
    # the obligation is met (the claim paid) while the reminder is still unread
    Deadline.objects.update(met_on=dt.date(2025, 10, 20), met_at=timezone.now(), state="met")
    assert 'id="inbox-unread"' not in client.get(reverse("home")).content.decode()
    page = client.get(reverse("inbox"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已于 2025-10-20 完成" in page and "<b>" not in page.split('id="inbox"')[1]
