"""The home page's work queues (issue 23 item 1): for a hand-built set of claims and deadlines,
each role's queues hold exactly the expected claims in the expected order; the navigation
counts them with a fixed, small number of queries; a row opens the work in one click."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim, ClaimStatusChange
from claims.selectors import claim_queue, queue_horizon
from finance.selectors import payments_due
from insurance_admin import workbench
from insurance_admin.core.models import Deadline
from programs.models import Area, Contract
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
# Friday before the 2025 National Day holidays: Sunday 09-28 is a make-up working day, so three
# working days ahead is Tuesday 09-30 (10-01 … 10-08 are holidays).
TODAY = dt.date(2025, 9, 26)
D = dt.date


def _at(day: int, hour: int = 9) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2025, 9, day, hour))


@pytest.fixture
def world(db):
    contract = Contract.objects.get(code="tongliao-2025")
    horqin, kailu = Area.objects.get(code="150502"), Area.objects.get(code="150523")
    staff = {
        "caseworker": UserFactory(username="cw", role="caseworker", area_codes=["150502"]),
        "reviewer": UserFactory(username="rv", role="reviewer", area_codes=["150500"]),
        "finance": UserFactory(username="fi", role="finance", area_codes=["150502"]),
        "supervisor": UserFactory(username="su", role="supervisor", area_codes=["150500"]),
    }
    approver = UserFactory(username="rv2", role="reviewer", area_codes=["150500"])
    person = EnrollmentFactory(person=PersonFactory(name="包宝山", area_code="150502")).person
    outsider = EnrollmentFactory(person=PersonFactory(name="乌兰", area_code="150523"), area=kailu).person
    claims = {}

    def claim(key, status, *, due=None, registered=1, area=horqin, changes=(), approved_day=None):
        extra = {}
        if status in (S.APPROVED, S.PAID):
            extra = {"payable": Decimal("4800.00"), "approved_by": approver, "approved_at": _at(approved_day or 20)}
        c = Claim.objects.create(
            claim_no=f"Q-{key}", contract=contract, person=person if area == horqin else outsider, area=area,
            registered_by=staff["caseworker"], status=status, enddate=D(2025, 8, 1), fixmedins_name="通辽市医院",
            place="in_region", due_date=due, **extra)
        Claim.objects.filter(pk=c.pk).update(registered_at=_at(registered))
        for to, day in changes:
            change = ClaimStatusChange.objects.create(claim=c, from_status="", to_status=to, by=staff["caseworker"])
            ClaimStatusChange.objects.filter(pk=change.pk).update(at=_at(day))
        claims[key] = c
        return c

    claim("A", S.REGISTERED, registered=2)
    claim("B", S.REGISTERED, registered=5)
    claim("K", S.REGISTERED, registered=1, area=kailu)  # another county
    claim("C", S.DOCUMENTS_COMPLETE, due=D(2025, 9, 30))  # the last day of the horizon
    claim("D", S.CALCULATED, due=D(2025, 9, 25))  # overdue
    claim("E", S.DOCUMENTS_COMPLETE, due=D(2025, 10, 9))  # after the holidays: not due soon
    claim("F", S.RETURNED, due=D(2025, 9, 29), changes=[(S.SUBMITTED, 10), (S.RETURNED, 15)])
    claim("G", S.RETURNED, due=D(2025, 10, 20), changes=[(S.SUBMITTED, 3), (S.RETURNED, 12)])
    claim("H", S.SUBMITTED, due=D(2025, 9, 29), changes=[(S.SUBMITTED, 18)])  # the reviewer's, not due-soon's
    claim("I", S.SUBMITTED, due=D(2025, 10, 15), changes=[(S.RETURNED, 4), (S.SUBMITTED, 8)])
    claim("J", S.APPROVED, due=D(2025, 10, 10), approved_day=21)
    claim("L", S.APPROVED, due=D(2025, 9, 29), approved_day=22)
    claim("M", S.APPROVED, due=None, approved_day=19)
    claim("P", S.PAID, due=D(2025, 9, 20))
    claim("W", S.WITHDRAWN, due=D(2025, 9, 25))
    claim("X", S.REJECTED, due=D(2025, 9, 25))
    return {"claims": claims, "staff": staff, "contract": contract, "horqin": horqin, "kailu": kailu}


def _nos(qs):
    return [c.claim_no for c in qs]


def test_the_horizon_counts_chinese_working_days():
    assert queue_horizon(TODAY) == D(2025, 9, 30)
    assert queue_horizon(D(2025, 9, 30)) == D(2025, 10, 11)  # across the holidays to the make-up Saturday
    from insurance_admin.core.workdays import load_calendar

    calendar = load_calendar()  # the same answer as the deadline board's full calendar, day by day
    for n in range(120):
        day = D(2025, 8, 1) + dt.timedelta(days=n)
        assert queue_horizon(day) == calendar.add_working_days(day, 3).date, day


def test_caseworker_queues_exact_sets_and_order(world):
    cw = world["staff"]["caseworker"]
    assert _nos(claim_queue(cw, "waiting_documents", TODAY)) == ["Q-A", "Q-B"]  # oldest first; K is 开鲁县's
    assert _nos(claim_queue(cw, "due_soon", TODAY)) == ["Q-D", "Q-F", "Q-C"]  # overdue first; E after the horizon
    assert _nos(claim_queue(cw, "returned", TODAY)) == ["Q-G", "Q-F"]  # returned on 09-12, then 09-15
    assert _nos(claim_queue(cw, "ready_to_pay", TODAY)) == ["Q-L", "Q-J", "Q-M"]  # due order, no due date last
    assert [(q.spec.name, q.count) for q in workbench.queues(cw, TODAY)] == [
        ("waiting_documents", 2), ("due_soon", 3), ("returned", 2), ("ready_to_pay", 3)]


def test_reviewer_queue_oldest_submission_first_with_due_dates(world):
    rv = world["staff"]["reviewer"]
    queue = list(claim_queue(rv, "submitted", TODAY))
    assert [(c.claim_no, c.due_date, timezone.localtime(c.submitted_at).day) for c in queue] == [
        ("Q-I", D(2025, 10, 15), 8), ("Q-H", D(2025, 9, 29), 18)]
    assert [q.spec.name for q in workbench.queues(rv, TODAY)] == ["submitted"]


_OBJECT_IDS = iter(range(1000, 2000))


def _deadline(kind, day, *, role="finance", area=None, met=None, label="", contract=None):
    due = D(2025, *day)
    return Deadline.objects.create(
        kind=kind, content_type=ContentType.objects.get_for_model(Claim), object_id=next(_OBJECT_IDS), label=label,
        link="/finance/contracts/tongliao-2025/", contract=contract, area=area, role=role, due_date=due,
        remind_on=due - dt.timedelta(days=5), met_on=met, met_at=timezone.now() if met else None)


def test_finance_queues(world):
    fi, contract = world["staff"]["finance"], world["contract"]
    region = Area.objects.get(code="150500")
    _deadline("premium_installment", (9, 20), area=region, label="tongliao-2025 #2", contract=contract)  # overdue
    _deadline("hospital_payment", (9, 29), area=world["horqin"], label="科尔沁区医院 2025-08", contract=contract)
    _deadline("hospital_payment", (9, 28), area=world["kailu"], label="开鲁县医院 2025-08", contract=contract)  # not theirs
    _deadline("premium_installment", (10, 30), area=region, contract=contract)  # reminder not reached
    _deadline("premium_installment", (9, 10), area=region, met=D(2025, 9, 9), contract=contract)  # met
    _deadline("claim_service", (9, 27), role="caseworker", area=world["horqin"], contract=contract)  # not finance's
    assert [(d.kind, d.due_date) for d in payments_due(fi, TODAY)] == [
        ("premium_installment", D(2025, 9, 20)), ("hospital_payment", D(2025, 9, 29))]
    queues = workbench.queues(fi, TODAY)
    assert [(q.spec.name, q.count) for q in queues] == [("ready_to_pay", 3), ("payments_due", 2)]
    assert _nos(queues[0].rows) == ["Q-L", "Q-J", "Q-M"]
    rows = queues[1].rows
    assert [(r["detail"], r["contract"], r["overdue"]) for r in rows] == [
        ("#2", "通辽市2025年度城乡居民大病医疗保险服务项目协议书", True),
        ("科尔沁区医院 2025-08", "通辽市2025年度城乡居民大病医疗保险服务项目协议书", False)]


def test_supervisors_have_no_queues(world):
    assert workbench.queues(world["staff"]["supervisor"], TODAY) == []


def test_navigation_counts_take_two_queries(world):
    cw = world["staff"]["caseworker"]
    cw.has_perm("claims.change_claim")  # permissions and area scope: loaded once per request anyway
    workbench.queue_counts(cw, TODAY)
    with CaptureQueriesContext(connection) as queries:
        counts = workbench.queue_counts(cw, TODAY)
    # the calendar window of the horizon, one aggregate over the claims
    assert len(queries) == 2
    assert [(s.name, n) for s, n in counts] == [("waiting_documents", 2), ("due_soon", 3), ("returned", 2),
                                                 ("ready_to_pay", 3)]
    fi = world["staff"]["finance"]
    fi.has_perm("claims.pay_claim")
    workbench.queue_counts(fi, TODAY)
    with CaptureQueriesContext(connection) as queries:
        workbench.queue_counts(fi, TODAY)
    # one aggregate over the claims, the area tree (a region's deadlines reach its counties), one count
    assert len(queries) == 3


def test_home_page_shows_the_queues_counts_and_links(client, world, django_assert_max_num_queries, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    cw = world["staff"]["caseworker"]
    client.force_login(cw)
    with django_assert_max_num_queries(30):
        body = client.get(reverse("home")).content.decode()
    for key in "ABCDFGJLM":
        c = world["claims"][key]
        assert f'<a href="{reverse("claim_detail", args=[c.pk])}">Q-{key}</a>' in body  # one click to the work
    assert "Q-K" not in body and "乌兰" not in body
    assert '<a class="navqueue" id="nav-queue-due_soon" href="/#queue-due_soon">即将到期 <span class="badge warn">3</span></a>' in body
    assert 'id="nav-queue-waiting_documents"' in body and "待补材料" in body
    assert 'name="q"' in body  # the person search stays
    client.force_login(world["staff"]["supervisor"])
    response = client.get(reverse("home"))  # a supervisor's home is the supervision dashboard
    assert (response.status_code, response.url) == (302, reverse("dashboards:dashboard"))
    body = client.get(reverse("home"), {"view": "workbench"}).content.decode()
    assert "queue-" not in body and 'name="q"' in body
