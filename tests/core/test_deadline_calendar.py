"""The deadline calendar (issue 20 item 5): each user's list and month view cut to their areas
(and, below supervisors, to their own role), overdue first, filters, holidays and make-up days;
the per-user iCal feed behind a rotatable token without personal data; the one-off deadlines of
the finance terms (service window, annual audit) and the liability suspension an unpaid
installment causes; the deadline tables read-only in the admin; failed tasks for administrators."""

import datetime as dt
import json
import zoneinfo
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from claims import registration
from finance import services
from finance.deadlines import installment_sync, terms_sync
from finance.models import FinanceTerms, PremiumInstallment
from finance.selectors import terms_for
from insurance_admin.core.models import CalendarDay, CalendarFeed, Deadline, TaskFailure
from programs.models import Contract
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2026, 4, 2)  # Zhenping's first installment (03-31) overdue, the others upcoming


@pytest.fixture(autouse=True)
def _today(monkeypatch, settings):
    settings.DEADLINE_DUE_SOON_DAYS = {"default": 5}
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)


@pytest.fixture
def world(caseworker, horqin_person):
    """A Tongliao claim of 科尔沁区 (due 2025-10-16, overdue) and Zhenping's premium schedule."""
    fin_zp = UserFactory(username="fin_zp", role="finance", area_codes=["411324"])
    contract = Contract.objects.get(code="tongliao-2025")
    claim = registration.claim_register(
        user=caseworker, person=horqin_person, contract=contract, claim_kind="inpatient", place="in_region",
        fixmedins_code="H1", fixmedins_name="通辽市医院", begndate=dt.date(2025, 9, 1), enddate=dt.date(2025, 9, 10),
        records=[{"setl_id": "M-CAL-1", "medfee_sumamt": D("52000.00"), "inscp_scp_amt": D("52000.00"), "hifp_pay": D("30000.00")}],
        documents=registration.requirements_for(program=contract.program, claim_kind="inpatient", place="in_region"),
        received_on=dt.date(2025, 9, 26))
    services.premium_schedule_generate(contract=Contract.objects.get(code="zhenping-2026"), user=fin_zp,
                                       headcounts={"411324": {"active": 3001, "retired": 1200}})
    return {
        "claim": claim,
        "sup": UserFactory(username="sup_tl", role="supervisor", area_codes=["150500"]),
        "sup_zp": UserFactory(username="sup_zp", role="supervisor", area_codes=["411324"]),
        "fin_zp": fin_zp,
        "fin_tl": UserFactory(username="fin_tl", role="finance", area_codes=["150500"]),
        "cw": caseworker,
    }


def listed(user, query=""):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("deadline_list") + query)
    assert response.status_code == 200
    return [(d.kind, d.due_date, d.state_on) for d, _label in response.context["rows"]], response.content.decode()


ZP_INSTALLMENTS = [
    ("premium_installment", dt.date(2026, 3, 31), "overdue"),
    ("premium_installment", dt.date(2026, 6, 30), "upcoming"),
    ("premium_installment", dt.date(2026, 12, 31), "upcoming"),
]
TL_CLAIM = [("claim_service", dt.date(2025, 10, 16), "overdue")]


def test_each_user_sees_the_deadlines_of_their_areas_only_and_below_supervisors_their_own_roles(world):
    assert listed(world["sup"])[0] == TL_CLAIM  # nothing of Zhenping
    assert listed(world["sup_zp"])[0] == ZP_INSTALLMENTS  # nothing of Tongliao
    assert listed(world["cw"])[0] == TL_CLAIM
    assert listed(world["fin_zp"])[0] == ZP_INSTALLMENTS
    assert listed(world["fin_tl"])[0] == []  # Tongliao's claim belongs to the caseworkers
    assert listed(UserFactory(username="nobody_tl", area_codes=["150500"]))[0] == []  # no role, no list


def test_overdue_first_filters_and_foreign_filters_reveal_nothing(world):
    rows, page = listed(world["sup_zp"])
    assert rows[0][2] == "overdue"
    assert "#1" in page and "镇平" in page and "保险责任中止" in page
    assert listed(world["sup_zp"], "?state=upcoming")[0] == ZP_INSTALLMENTS[1:]
    assert listed(world["sup_zp"], "?state=overdue")[0] == ZP_INSTALLMENTS[:1]
    assert listed(world["sup_zp"], "?kind=claim_service")[0] == []
    zhenping = Contract.objects.get(code="zhenping-2026")
    assert listed(world["sup_zp"], f"?contract={zhenping.pk}&kind=premium_installment")[0] == ZP_INSTALLMENTS
    tongliao = Contract.objects.get(code="tongliao-2025")
    # another area's contract is not a valid choice: the list stays the user's own
    assert listed(world["sup_zp"], f"?contract={tongliao.pk}")[0] == ZP_INSTALLMENTS
    claim_area = world["claim"].area_id
    assert listed(world["sup_zp"], f"?area={claim_area}")[0] == ZP_INSTALLMENTS
    assert listed(world["sup"], f"?area={claim_area}")[0] == TL_CLAIM  # 科尔沁区 within 通辽市


def test_every_row_links_to_its_object(world):
    _rows, page = listed(world["cw"])
    assert f'href="/claims/{world["claim"].pk}/"' in page and world["claim"].claim_no in page
    _rows, page = listed(world["sup_zp"])
    assert page.count('href="/finance/') >= 3


def test_the_month_view_puts_deadlines_on_their_due_day_with_holidays_and_make_up_days(world):
    client = Client()
    client.force_login(world["sup_zp"])
    response = client.get(reverse("deadline_calendar") + "?month=2026-03")
    page = response.content.decode()
    assert "".join(f"<th>{w}</th>" for w in "一二三四五六日") in page
    days = {day.date: day for week in response.context["weeks"] for day in week}
    assert [d.kind for d in days[dt.date(2026, 3, 31)].deadlines] == ["premium_installment"]
    assert sum(len(day.deadlines) for day in days.values()) == 1  # 06-30 and 12-31 are other months
    # February 2026: the Spring Festival holidays on weekdays and its make-up Saturdays/Sundays
    response = client.get(reverse("deadline_calendar") + "?month=2026-02")
    days = {day.date: day for week in response.context["weeks"] for day in week}
    exceptions = {c.date: c for c in CalendarDay.objects.filter(date__range=(min(days), max(days)))}
    holidays = sorted(d for d, c in exceptions.items() if not c.is_workday and d.weekday() < 5)
    makeups = sorted(d for d, c in exceptions.items() if c.is_workday and d.weekday() >= 5)
    assert holidays and makeups
    assert sorted(d for d, day in days.items() if day.holiday) == holidays
    assert sorted(d for d, day in days.items() if day.makeup) == makeups
    assert all(not days[d].workday for d in holidays) and all(days[d].workday for d in makeups)
    assert dt.date(2026, 2, 17) in holidays  # 春节 (Tuesday)
    assert 'class="makeup"' in response.content.decode()


def feed_token(user) -> str:
    client = Client()
    client.force_login(user)
    assert client.post(reverse("deadline_feed_rotate")).status_code == 302
    return CalendarFeed.objects.get(user=user).token


def test_the_ical_feed_shows_the_users_scope_without_personal_data_and_its_token_rotates(world):
    anonymous = Client()
    token = feed_token(world["sup_zp"])
    response = anonymous.get(reverse("deadline_feed"), {"token": token})
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert body.count(b"BEGIN:VEVENT") == 3
    assert [line for line in body.split(b"\r\n") if line.startswith(b"DTSTART")] == [
        b"DTSTART;VALUE=DATE:20260331", b"DTSTART;VALUE=DATE:20260630", b"DTSTART;VALUE=DATE:20261231"]
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded (RFC 5545 §3.1)
    text = body.replace(b"\r\n ", b"").decode()
    title = Contract.objects.get(code="zhenping-2026").name
    assert [line for line in text.split("\r\n") if line.startswith(("SUMMARY", "DESCRIPTION"))][:4] == [
        f"SUMMARY:保费分期 · {title} · #1", "DESCRIPTION:已逾期\\n保险责任中止",
        f"SUMMARY:保费分期 · {title} · #2", "DESCRIPTION:未到期"]
    assert "zhenping-2026" not in text.replace("/finance/contracts/zhenping-2026/", "")  # no internal code
    assert world["claim"].claim_no not in text and "包宝山" not in text
    # the Tongliao supervisor's feed: their claim by number, never the person
    tl = anonymous.get(reverse("deadline_feed"), {"token": feed_token(world["sup"])}).content.replace(b"\r\n ", b"").decode()
    assert tl.count("BEGIN:VEVENT") == 1 and world["claim"].claim_no in tl
    assert "包宝山" not in tl and world["claim"].person.certno not in tl and "20260331" not in tl
    # rotation: the old address stops answering, the new one works
    new = feed_token(world["sup_zp"])
    assert new != token
    assert anonymous.get(reverse("deadline_feed"), {"token": token}).status_code == 404
    assert anonymous.get(reverse("deadline_feed"), {"token": new}).status_code == 200
    assert anonymous.get(reverse("deadline_feed"), {"token": "x" * 43}).status_code == 404
    login = anonymous.get(reverse("deadline_feed"))
    assert login.status_code == 302 and login["Location"].startswith("/accounts/login/")
    assert anonymous.post(reverse("deadline_feed"), {"token": new}).status_code == 405
    world["sup_zp"].is_active = False
    world["sup_zp"].save()
    assert anonymous.get(reverse("deadline_feed"), {"token": new}).status_code == 404


def test_an_unpaid_installment_suspends_liability_only_where_the_terms_say_so(world):
    first = PremiumInstallment.objects.get(contract__code="zhenping-2026", seq=1)
    deadline = Deadline.objects.get(kind="premium_installment", object_id=first.pk)
    assert deadline.consequence == "liability_suspended"
    _rows, page = listed(world["sup_zp"])
    assert page.count('data-consequence="liability_suspended"') == 1  # the overdue one only
    FinanceTerms.objects.filter(contract__code="zhenping-2026").update(unpaid_suspends_liability=False)
    installment_sync(first)
    deadline.refresh_from_db()
    assert deadline.consequence == ""
    assert 'data-consequence' not in listed(world["sup_zp"])[1]


def test_service_window_and_annual_audit_deadlines_come_from_the_terms_and_are_met_by_their_dates():
    taikang, tongliao = (terms_for(Contract.objects.get(code=c)) for c in ("taikang-2025", "tongliao-2025"))
    zhenping = terms_for(Contract.objects.get(code="zhenping-2026"))
    assert (taikang.service_window_working_days, tongliao.annual_audit_month) == (15, 4)
    for terms in (taikang, tongliao, zhenping):
        terms_sync(terms)
    rows = sorted(Deadline.objects.values_list("kind", "contract__code", "due_date", "role", "working_days", "state"))
    # Taikang signed 2025-01-27: 15 working days across the Spring Festival (01-28 – 02-04 off,
    # 02-08 a make-up Saturday) end on 02-24; Tongliao's 2025 audit by the end of April 2026
    assert rows == [("annual_audit", "tongliao-2025", dt.date(2026, 4, 30), "finance", False, "upcoming"),
                    ("service_window", "taikang-2025", dt.date(2025, 2, 24), "administrator", True, "overdue")]
    taikang.service_window_ready_on = dt.date(2025, 2, 20)
    taikang.save()
    terms_sync(taikang)
    window = Deadline.objects.get(kind="service_window")
    assert (window.state, window.met_on, window.met_what) == ("met", dt.date(2025, 2, 20), "service window set up")
    out = StringIO()
    call_command("deadlines", "--as-of", "2026-04-30", "--json", stdout=out)
    assert [r for r in json.loads(out.getvalue()) if r["kind"] == "annual_audit"] == [
        {"kind": "annual_audit", "contract": "tongliao-2025", "area": "150500", "object": "tongliao-2025 2025",
         "due_date": "2026-04-30", "state": "due_today", "role": "finance"}]


def test_the_admin_lists_deadlines_read_only_and_scoped(world):
    client = Client()
    client.force_login(world["sup_zp"])
    response = client.get("/admin/core/deadline/")
    assert response.status_code == 200
    assert sorted(response.context["cl"].result_list.values_list("kind", "due_date")) == [
        (k, d) for k, d, _s in ZP_INSTALLMENTS]
    claim_deadline = Deadline.objects.get(kind="claim_service")
    assert client.get(f"/admin/core/deadline/{claim_deadline.pk}/change/").status_code in (302, 404)
    own = Deadline.objects.filter(kind="premium_installment").first()
    assert client.get(f"/admin/core/deadline/{own.pk}/change/").status_code == 200
    before = own.due_date
    assert client.post(f"/admin/core/deadline/{own.pk}/change/", {"due_date": "2030-01-01"}).status_code == 403
    own.refresh_from_db()
    assert own.due_date == before
    assert client.get("/admin/core/taskfailure/").status_code == 403  # administrators only


def test_a_failed_task_is_recorded_and_shown_to_administrators_only(world):
    from insurance_admin.core.tasks import deadlines_scan

    result = deadlines_scan.apply(args=["not-a-date"])
    assert result.failed()
    failure = TaskFailure.objects.get()
    assert (failure.task_name, failure.exception.split(":")[0]) == ("insurance_admin.core.tasks.deadlines_scan", "ValueError")
    admin = UserFactory(username="admin_tl", role="administrator", area_codes=["150500"])
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("system_status")).content.decode()
    assert 'id="task-failures"' in page and "insurance_admin.core.tasks.deadlines_scan" in page
    assert client.get("/admin/core/taskfailure/").status_code == 200
    client.force_login(world["sup"])
    page = client.get(reverse("system_status")).content.decode()
    assert 'id="task-failures"' not in page and "ValueError" not in page


def test_the_shanghai_crontab_estimates_the_time_left_to_the_local_hour(celery_app):
    """The daily scan's crontab (06:00 Asia/Shanghai) from a fixed 'now': one hour left at
    05:00 local (21:00 UTC the day before), due at 06:00 local, not at 06:00 UTC."""
    from django.conf import settings
    from django_celery_beat.schedulers import ModelEntry

    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    celery_app.conf.timezone = settings.CELERY_TIMEZONE
    entry = ModelEntry.from_entry("deadlines-daily-scan", app=celery_app, **settings.CELERY_BEAT_SCHEDULE["deadlines-daily-scan"])
    schedule = entry.schedule
    last_run = dt.datetime(2026, 12, 5, 6, 0, tzinfo=shanghai)
    schedule.nowfun = lambda: dt.datetime(2026, 12, 5, 21, 0, tzinfo=dt.UTC)  # 05:00 on the 6th in Shanghai
    assert schedule.remaining_estimate(last_run) == dt.timedelta(hours=1)
    assert schedule.is_due(last_run).is_due is False
    schedule.nowfun = lambda: dt.datetime(2026, 12, 5, 22, 0, 1, tzinfo=dt.UTC)  # 06:00:01 in Shanghai
    assert schedule.is_due(last_run).is_due is True


def test_editing_the_finance_terms_in_the_admin_meets_the_service_window_in_the_same_save():
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    terms = terms_for(Contract.objects.get(code="taikang-2025"))
    terms_sync(terms)
    assert Deadline.objects.get(kind="service_window").met_on is None
    request = RequestFactory().post("/")
    request.user = UserFactory(username="admin_tk", role="administrator", area_codes=["411600"])
    terms.service_window_ready_on = dt.date(2025, 2, 26)
    django_admin.site._registry[FinanceTerms].save_model(request, terms, None, True)
    window = Deadline.objects.get(kind="service_window")
    assert (window.met_on, window.met_by, window.state) == (dt.date(2025, 2, 26), request.user, "met")  # two days late


def test_the_deadline_admin_shows_the_contracts_title_never_its_code(world, admin_client):
    """Deadline labels are stored with the contract's internal code ("zhenping-2026 #1"); the
    admin's list, its change page and every place the record is named (a notification's
    deadline) read the title and "#1" instead."""
    deadline = Deadline.objects.get(kind="premium_installment", label="zhenping-2026 #1")
    title = Contract.objects.get(code="zhenping-2026").name
    listing = admin_client.get(reverse("admin:core_deadline_changelist")).content.decode()
    change = admin_client.get(reverse("admin:core_deadline_change", args=[deadline.pk])).content.decode()
    for page in (listing, change):
        assert "zhenping-2026" not in page.replace("/finance/contracts/zhenping-2026/", "")
    assert "#1" in listing and "#1" in change and title in change
    assert str(deadline) == f"{deadline.get_kind_display()} {title} #1 2026-03-31"


def test_the_filters_offer_all_in_words_not_dashes(world):
    _rows, page = listed(world["sup_zp"])
    assert "---------" not in page
    assert page.count('<option value="" selected>全部</option>') == 4
