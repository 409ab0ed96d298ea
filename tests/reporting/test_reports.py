"""Periodic reports (issue 20 item 3): due dates from the report terms, generation stored with
its SHA-256, versions, the idempotent daily scan and the scope of the list and downloads."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from insurance_admin.core.deadlines import state_as_of
from insurance_admin.core.models import Deadline
from insurance_admin.reporting import services
from insurance_admin.reporting.models import ReportDue, ReportRun, ReportTerm
from insurance_admin.reporting.tasks import reports_daily
from programs.models import Area, Contract
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HORQIN, KAILU, TONGLIAO = "150502", "150523", "150500"


class FakeHTML:
    """WeasyPrint stand-in for the tests that do not look at the PDF (0.3 s per document)."""

    def __init__(self, string="", **kwargs):
        self.string = string

    def write_pdf(self, *args, **kwargs):
        return b"%PDF-fake\n" + self.string.encode()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def fast_pdf():
    with mock.patch("weasyprint.HTML", FakeHTML):
        yield


@pytest.fixture
def tongliao():
    return Contract.objects.select_related("program__region").get(code="tongliao-2025")


@pytest.fixture
def taikang():
    return Contract.objects.select_related("program__region").get(code="taikang-2025")


@pytest.fixture
def finance_region():
    return UserFactory(username="fin_tl", first_name="通辽财务", role="finance", area_codes=[TONGLIAO])


@pytest.fixture
def finance_horqin():
    return UserFactory(username="fin_horqin", role="finance", area_codes=[HORQIN])


def _sha(name: str) -> str:
    with default_storage.open(name, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


# --- due dates ------------------------------------------------------------------------------


def test_report_deadlines_follow_the_seed_terms(tongliao):
    services.report_dues_sync(tongliao)
    dues = ReportDue.objects.filter(contract=tongliao)
    assert dues.filter(kind="monthly").count() == 12
    assert dues.filter(kind="quarterly").count() == 4
    assert dues.filter(kind="annual").count() == 1
    assert not dues.filter(kind="semiannual").exists()  # seed 001 asks for none
    # the quarterly analysis is due in the first month of the next quarter
    q1 = dues.get(kind="quarterly", period_start=dt.date(2025, 1, 1))
    assert (q1.period_end, q1.due_date) == (dt.date(2025, 3, 31), dt.date(2025, 4, 30))
    assert dues.get(kind="quarterly", period_start=dt.date(2025, 10, 1)).due_date == dt.date(2026, 1, 31)
    assert dues.get(kind="monthly", period_start=dt.date(2025, 1, 1)).due_date == dt.date(2025, 2, 28)
    assert dues.get(kind="annual").due_date == dt.date(2026, 1, 31)
    deadline = Deadline.objects.get(kind="periodic_report", object_id=q1.pk)
    assert (deadline.due_date, deadline.role, deadline.area.code, deadline.contract_id, deadline.met_on) == (
        dt.date(2025, 4, 30), "finance", TONGLIAO, tongliao.pk, None)
    assert deadline.label == f"{tongliao.name} 季度基金使用情况分析 2025年第1季度"
    assert Deadline.objects.filter(kind="periodic_report", contract=tongliao).count() == 17
    # the clock: before, on and after the due date
    states = [state_as_of(due_date=deadline.due_date, remind_on=deadline.remind_on, met_on=None, on=day)
              for day in (dt.date(2025, 4, 1), dt.date(2025, 4, 30), dt.date(2025, 5, 1))]
    assert states == ["upcoming", "due_today", "overdue"]


def test_zhenping_quarterly_and_semiannual_due_dates_and_a_changed_term():
    zhenping = Contract.objects.get(code="zhenping-2026")
    services.report_dues_sync(zhenping)
    assert ReportDue.objects.get(contract=zhenping, kind="quarterly", period_start=dt.date(2026, 4, 1)).due_date == dt.date(2026, 7, 31)
    assert ReportDue.objects.get(contract=zhenping, kind="semiannual", period_start=dt.date(2026, 7, 1)).due_date == dt.date(2027, 1, 31)
    # an administrator sets "by the 10th": the dues and their deadlines follow, nothing duplicated
    ReportTerm.objects.filter(contract=zhenping, kind="quarterly").update(due_day=10)
    services.report_dues_sync(zhenping)
    q2 = ReportDue.objects.get(contract=zhenping, kind="quarterly", period_start=dt.date(2026, 4, 1))
    assert q2.due_date == dt.date(2026, 7, 10)
    assert Deadline.objects.get(kind="periodic_report", object_id=q2.pk).due_date == dt.date(2026, 7, 10)
    assert Deadline.objects.filter(kind="periodic_report", contract=zhenping).count() == 6
    # a term removed: its unmet deadlines go with it
    ReportTerm.objects.filter(contract=zhenping, kind="semiannual").delete()
    services.report_dues_sync(zhenping)
    assert Deadline.objects.filter(kind="periodic_report", contract=zhenping).count() == 4


def test_due_day_is_capped_at_the_month_end():
    term = ReportTerm(kind="monthly", due_months_after=1, due_day=31)
    assert services.due_date_of(term, dt.date(2025, 1, 31)) == dt.date(2025, 2, 28)
    assert services.due_date_of(term, dt.date(2025, 2, 28)) == dt.date(2025, 3, 31)


def test_periods_are_cut_to_a_contract_year_that_does_not_start_in_january():
    assert services.periods_of("quarterly", dt.date(2025, 2, 15), dt.date(2025, 8, 31)) == [
        (dt.date(2025, 2, 15), dt.date(2025, 3, 31)), (dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
        (dt.date(2025, 7, 1), dt.date(2025, 8, 31))]


# --- generation -----------------------------------------------------------------------------


def test_generation_stores_pdf_and_xlsx_with_their_sha256_and_meets_the_deadline(tongliao, finance_region):
    services.report_dues_sync(tongliao)
    run = services.generate_report("quarterly", tongliao, "2025-Q1", by=finance_region)
    assert (run.version, run.status, run.trigger, run.generated_by, run.area.code) == (1, "current", "user", finance_region, TONGLIAO)
    assert (run.period_start, run.period_end) == (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    assert run.pdf.name.startswith("reports/tongliao-2025/quarterly/") and run.pdf.name.endswith("-v1.pdf")
    assert default_storage.path(run.pdf.name).startswith(settings.MEDIA_ROOT)
    assert _sha(run.pdf.name) == run.pdf_sha256 and len(run.pdf_sha256) == 64
    assert _sha(run.xlsx.name) == run.xlsx_sha256
    with default_storage.open(run.pdf.name, "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    with default_storage.open(run.xlsx.name, "rb") as fh:
        sheet = load_workbook(io.BytesIO(fh.read())).active
    assert sheet["A1"].value == "季度基金使用情况分析"
    assert run.parameters["period"] == "2025-Q1" and run.parameters["basis"] == "contract_year"
    due = ReportDue.objects.get(contract=tongliao, kind="quarterly", period_start=dt.date(2025, 1, 1))
    deadline = Deadline.objects.get(kind="periodic_report", object_id=due.pk)
    assert (deadline.met_on, deadline.met_by, deadline.met_what) == (timezone.localdate(), finance_region, "report generated")


def test_generating_again_creates_version_2_and_keeps_version_1(tongliao, finance_region, fast_pdf):
    services.report_dues_sync(tongliao)
    first = services.generate_report("monthly", tongliao, "2025-03", by=finance_region)
    first_pdf = first.pdf.name
    deadline = Deadline.objects.get(kind="periodic_report", contract=tongliao, label__contains="2025年3月")
    met_at = deadline.met_at
    second = services.regenerate(first, by=finance_region)
    first.refresh_from_db()
    assert (second.version, second.status, first.version, first.status) == (2, "current", 1, "superseded")
    assert second.pdf.name != first_pdf and first.pdf.name == first_pdf
    assert default_storage.exists(first_pdf) and _sha(first_pdf) == first.pdf_sha256
    assert _sha(second.pdf.name) == second.pdf_sha256 and _sha(second.xlsx.name) == second.xlsx_sha256
    assert second.parameters["regenerated_from"] == 1
    assert ReportRun.objects.filter(contract=tongliao, kind="monthly", period_start=dt.date(2025, 3, 1)).count() == 2
    deadline.refresh_from_db()
    assert deadline.met_at == met_at  # met once, by version 1
    third = services.regenerate(second, by=finance_region)
    assert third.version == 3
    assert list(ReportRun.objects.filter(contract=tongliao, kind="monthly").values_list("version", "status")) == [
        (3, "current"), (2, "superseded"), (1, "superseded")]


def test_a_county_book_run_holds_that_county_only(tongliao, finance_region, fast_pdf):
    run = services.generate_report("monthly", tongliao, "2025-03", area=Area.objects.get(code=HORQIN), by=finance_region)
    assert run.area.code == HORQIN and run.pdf.name.endswith(f"-{HORQIN}-20250301-v1.pdf")
    with default_storage.open(run.xlsx.name, "rb") as fh:
        values = [c for row in load_workbook(io.BytesIO(fh.read())).active.iter_rows(values_only=True) for c in row if c]
    assert "科尔沁区" in values and "开鲁县" not in values


# --- the daily scan -------------------------------------------------------------------------


def test_the_daily_scan_generates_every_due_report_once(tongliao, fast_pdf):
    created = reports_daily("2025-02-01")  # January has ended: Tongliao's monthly statement is due
    runs = ReportRun.objects.all()
    books = {r.area.code for r in runs}
    assert len(created) == 10 and runs.count() == 10
    assert books == {TONGLIAO} | set(Area.objects.filter(parent__code=TONGLIAO).values_list("code", flat=True))
    assert {(r.kind, r.contract.code, r.period_start, r.version, r.trigger) for r in runs} == {
        ("monthly", "tongliao-2025", dt.date(2025, 1, 1), 1, "schedule")}
    assert reports_daily("2025-02-01") == []  # the same day again: nothing new
    assert ReportRun.objects.count() == 10
    january = Deadline.objects.get(kind="periodic_report", contract=tongliao, label__contains="2025年1月")
    assert january.met_on is not None and january.met_by is None
    # a day later nothing new either; the first day of April adds March and the first quarter
    assert reports_daily("2025-02-02") == []
    assert len(reports_daily("2025-04-01")) == 2 * 10 + 10  # February and March, and Q1 (each: all books)
    assert ReportRun.objects.filter(version__gt=1).count() == 0


def test_the_first_run_after_beat_was_down_generates_every_missed_period_not_only_the_last(tongliao, fast_pdf):
    """Beat down from January to April; March's statement was generated by hand meanwhile: the
    next run generates January, February, the rest of March and the first quarter, once."""
    services.generate_report("monthly", tongliao, "2025-03")  # the whole contract's book, by hand
    created = reports_daily("2025-04-02")
    assert len(created) == 10 + 10 + 9 + 10  # Jan and Feb (all books), March (the nine counties), Q1
    region_runs = ReportRun.objects.filter(contract=tongliao, area=tongliao.program.region)
    assert sorted((r.kind, r.period_start.month, r.version) for r in region_runs) == [
        ("monthly", 1, 1), ("monthly", 2, 1), ("monthly", 3, 1), ("quarterly", 1, 1)]
    assert reports_daily("2025-04-03") == []


def test_a_second_version_1_is_refused_by_the_database(tongliao, fast_pdf):
    services.generate_report("monthly", tongliao, "2025-01", first_only=True)
    with pytest.raises(IntegrityError):
        services.generate_report("monthly", tongliao, "2025-01", first_only=True)
    assert ReportRun.objects.count() == 1


def test_the_daily_report_task_is_a_database_crontab_at_05_30_shanghai(celery_app):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    entry = settings.CELERY_BEAT_SCHEDULE["reports-daily"]
    assert entry["task"] == reports_daily.name
    celery_app.conf.timezone = settings.CELERY_TIMEZONE
    ModelEntry.from_entry("reports-daily", app=celery_app, **entry)
    task = PeriodicTask.objects.get(name="reports-daily")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("5", "30", "Asia/Shanghai")
    assert reports_daily.acks_late is True and reports_daily.max_retries == 5


# --- pages and scope ------------------------------------------------------------------------


@pytest.fixture
def runs(tongliao, taikang, finance_region, fast_pdf):
    return {
        "region": services.generate_report("monthly", tongliao, "2025-03", by=finance_region),
        "horqin": services.generate_report("monthly", tongliao, "2025-03", area=Area.objects.get(code=HORQIN)),
        "kailu": services.generate_report("monthly", tongliao, "2025-03", area=Area.objects.get(code=KAILU)),
        "taikang": services.generate_report("semiannual", taikang, "2025-H1"),
    }


def test_a_county_user_lists_and_downloads_their_county_runs_only(client, runs, finance_horqin):
    client.force_login(finance_horqin)
    page = client.get(reverse("reporting:list"))
    assert page.status_code == 200
    shown = {int(pk) for pk in __import__("re").findall(r'data-id="(\d+)"', page.content.decode())}
    assert shown == {runs["horqin"].pk}
    own = client.get(reverse("reporting:run_file", args=[runs["horqin"].pk, "xlsx"]))
    assert own.status_code == 200
    assert hashlib.sha256(b"".join(own.streaming_content)).hexdigest() == runs["horqin"].xlsx_sha256
    assert 'attachment; filename="monthly-tongliao-2025-150502-20250301-v1.xlsx"' == own["Content-Disposition"]
    for other in ("region", "kailu", "taikang"):
        for fmt in ("pdf", "xlsx"):
            assert client.get(reverse("reporting:run_file", args=[runs[other].pk, fmt])).status_code == 404, other
    # filtering by another contract shows nothing of it
    page = client.get(reverse("reporting:list"), {"contract": runs["taikang"].contract_id})
    assert "data-id=" not in page.content.decode() and "太康" not in page.content.decode()


def test_a_county_user_cannot_generate_another_books_report_again(client, runs, finance_horqin):
    client.force_login(finance_horqin)
    before = ReportRun.objects.count()
    for other in ("region", "kailu", "taikang"):
        assert client.post(reverse("reporting:run_regenerate", args=[runs[other].pk])).status_code == 404
    assert ReportRun.objects.count() == before
    response = client.post(reverse("reporting:run_regenerate", args=[runs["horqin"].pk]))
    assert response.status_code == 302
    assert ReportRun.objects.filter(area__code=HORQIN).values_list("version", flat=True).order_by("version")[::1] == [1, 2]
    assert ReportRun.objects.get(area__code=HORQIN, version=2).generated_by == finance_horqin


def test_roles(client, runs):
    supervisor = UserFactory(username="sup_tl", role="supervisor", area_codes=[TONGLIAO])
    caseworker = UserFactory(username="cw_tl", role="caseworker", area_codes=[TONGLIAO])
    administrator = UserFactory(username="adm_tl", role="administrator", area_codes=[TONGLIAO])
    region_run = runs["region"]
    client.force_login(caseworker)
    assert client.get(reverse("reporting:list")).status_code == 403
    assert client.get(reverse("reporting:run_file", args=[region_run.pk, "pdf"])).status_code == 403
    client.force_login(supervisor)
    page = client.get(reverse("reporting:list")).content.decode()
    assert page.count("data-id=") == 3 and "/regenerate/" not in page and "太康" not in page
    assert client.get(reverse("reporting:run_file", args=[region_run.pk, "pdf"])).status_code == 200
    assert client.post(reverse("reporting:run_regenerate", args=[region_run.pk])).status_code == 403
    client.force_login(administrator)
    assert client.get(reverse("reporting:run_file", args=[region_run.pk, "pdf"])).status_code == 200
    assert client.post(reverse("reporting:run_regenerate", args=[region_run.pk])).status_code == 403
    assert ReportRun.objects.count() == 4


def test_the_list_filters_by_contract_report_and_period(client, runs, finance_region):
    client.force_login(finance_region)

    def ids(**query):
        page = client.get(reverse("reporting:list"), query).content.decode()
        return {int(pk) for pk in __import__("re").findall(r'data-id="(\d+)"', page)}

    tongliao_runs = {runs[k].pk for k in ("region", "horqin", "kailu")}
    assert ids() == tongliao_runs
    assert ids(contract=runs["region"].contract_id, kind="monthly", period="2025-03") == tongliao_runs
    assert ids(period="2025-Q1") == set()  # no quarterly run yet
    assert ids(kind="monthly", period="2025-04") == set()
    assert ids(period="2025") == tongliao_runs
    page = client.get(reverse("reporting:list")).content.decode()
    assert "月度赔付支出报表" in page and "2025年3月" in page and "全合同" in page and ">重新生成</button>" in page
    assert "tongliao-2025" not in page.replace('filename', '')
