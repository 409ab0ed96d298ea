"""Periodic reports: the report periods and deadlines a contract's terms create, the
generation of one report (PDF + XLSX from the finance report, stored with their SHA-256 as a
new version) and the daily generation of every report that is due.

The report's content is `finance.reports.report_document` rendered by `finance.documents`: the
same document the finance page hands out, never a second report.

Deadlines (DOMAIN.md §6): one per report period of the whole contract, kind "periodic_report",
due `ReportTerm.due_months_after` months after the period's last month (on `due_day`, or that
month's last day), responsible role finance, met by the period's first whole-contract run. A
county book's run is a breakdown generated with it and carries no deadline of its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from finance import documents, reports
from finance.forms import period_bounds
from finance.selectors import area_books
from insurance_admin.core.deadlines import Met, deadline_track, deadline_untrack
from programs.models import Area, Contract

from .models import (
    KIND_MONTHS,
    Basis,
    Kind,
    ReportDue,
    ReportRun,
    ReportTerm,
    period_display,
    period_label,
)

logger = logging.getLogger(__name__)

DEADLINE_KIND = "periodic_report"
ROLE = "finance"


# --- periods and due dates -----------------------------------------------------------------


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def due_date_of(term: ReportTerm, period_end: dt.date) -> dt.date:
    """`due_months_after` months after the period's last month, on `due_day` (capped at the
    month's length) or on that month's last day. A quarter ending 03-31 with the default (1,
    last day) is due on 04-30: in the first month of the next quarter."""
    year, month = _add_months(period_end, term.due_months_after)
    last = _month_end(year, month)
    return last if term.due_day is None else last.replace(day=min(term.due_day, last.day))


def periods_of(kind: str, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The calendar periods of `kind` (months, quarters, halves, years) that overlap
    [start, end], each cut to it."""
    months = KIND_MONTHS[kind]
    year, month = start.year, (start.month - 1) // months * months + 1
    out = []
    while dt.date(year, month, 1) <= end:
        last_year, last_month = _add_months(dt.date(year, month, 1), months - 1)
        out.append((max(dt.date(year, month, 1), start), min(_month_end(last_year, last_month), end)))
        year, month = _add_months(dt.date(year, month, 1), months)
    return out


def report_books(contract: Contract) -> list[Area]:
    """The books a report is generated for: the whole contract (its region) and, where the
    region keeps separate county books (Tongliao's nine), each of them."""
    region = contract.program.region
    books = area_books(contract)
    return [region, *books] if len(books) > 1 else [region]


def _rule(term: ReportTerm) -> str:
    with translation.override("zh-hans"):
        day = _("the last day") if term.due_day is None else _("day %(day)s") % {"day": term.due_day}
        return _("%(report)s: due on %(day)s of month %(n)s after the period ends") % {
            "report": term.get_kind_display(), "day": day, "n": term.due_months_after}


def _label(contract: Contract, kind: str, start: dt.date) -> str:
    with translation.override("zh-hans"):
        return f"{contract.name} {Kind(kind).label} {period_display(kind, start)}"


def _link(contract: Contract, kind: str, start: dt.date) -> str:
    return reverse("reporting:list") + "?" + urlencode({"contract": contract.pk, "kind": kind, "period": period_label(kind, start)})


def _first_run(contract: Contract, kind: str, start: dt.date) -> ReportRun | None:
    return (ReportRun.objects.filter(contract=contract, kind=kind, area_id=contract.program.region_id, period_start=start)
            .order_by("version").first())


def _track(due: ReportDue, term: ReportTerm) -> None:
    run = _first_run(due.contract, due.kind, due.period_start)
    met = None
    if run is not None:
        met = Met(on=timezone.localdate(run.generated_at), what="report generated", by=run.generated_by)
    deadline_track(kind=DEADLINE_KIND, obj=due, due_date=due.due_date, label=_label(due.contract, due.kind, due.period_start),
                   role=ROLE, contract_id=due.contract_id, area_id=due.contract.program.region_id, rule=_rule(term),
                   link=_link(due.contract, due.kind, due.period_start), met=met)


def report_dues_sync(contract: Contract) -> list[ReportDue]:
    """Bring the contract's report periods and their deadlines in step with its terms: one
    `ReportDue` per period of the contract year for every required report (due dates follow a
    changed term); periods of a removed term lose their unmet deadline. Idempotent."""
    terms = {t.kind: t for t in ReportTerm.objects.filter(contract=contract)}
    kept = []
    with transaction.atomic():
        for kind, term in terms.items():
            for start, end in periods_of(kind, contract.period_start, contract.period_end):
                due_date = due_date_of(term, end)
                due, created = ReportDue.objects.get_or_create(
                    contract=contract, kind=kind, period_start=start, defaults={"period_end": end, "due_date": due_date})
                if not created and (due.period_end, due.due_date) != (end, due_date):
                    due.period_end, due.due_date = end, due_date
                    due.save(update_fields=["period_end", "due_date"])
                _track(due, term)
                kept.append(due)
        stale = ReportDue.objects.filter(contract=contract).exclude(pk__in=[d.pk for d in kept])
        for due in stale:
            deadline_untrack(kind=DEADLINE_KIND, obj=due)
        stale.delete()
    return kept


def report_dues_backfill() -> int:
    """For `manage.py deadlines_backfill`: every contract's report deadlines."""
    return sum(len(report_dues_sync(c)) for c in Contract.objects.in_use().select_related("program__region"))


# --- one report ----------------------------------------------------------------------------


def _bounds(kind: str, contract: Contract, period) -> tuple[dt.date, dt.date]:
    if kind not in KIND_MONTHS:
        raise ValidationError(_("Unknown report."))
    start, end = period_bounds(kind, period) if isinstance(period, str) else period
    start, end = max(start, contract.period_start), min(end, contract.period_end)
    if start > end:
        raise ValidationError(_("The period lies outside the contract year."))
    return start, end


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _document(kind: str, contract: Contract, book: Area, start: dt.date, end: dt.date, basis: str):
    """The finance report of the book and period (None: the whole contract). `basis` is stored
    with the run; the document function reads its own basis (issue 19 makes it a parameter)."""
    area = None if book.pk == contract.program.region_id else book
    return reports.report_document(kind, contract, area, start, end)


def generate_report(kind: str, contract: Contract, period, *, area: Area | None = None, by=None,
                    parameters: dict | None = None, first_only: bool = False) -> ReportRun:
    """Render the report of (kind, contract, book, period) as PDF and XLSX, store both under
    MEDIA_ROOT with their SHA-256, and record the run as the next version (version 1 meets the
    period's deadline). `period` is "2025-03" / "2025-Q1" / "2025-H1" / "2025" or (start, end);
    `area` a county book (None: the whole contract); `by` the user, None for the schedule.
    `first_only`: create version 1 or nothing (IntegrityError when it exists: the scan's
    idempotence rests on the unique constraint, not on a read before the write)."""
    start, end = _bounds(kind, contract, period)
    book = area or contract.program.region
    term = ReportTerm.objects.filter(contract=contract, kind=kind).first()
    basis = term.basis if term is not None else Basis.CONTRACT_YEAR
    document = _document(kind, contract, book, start, end, basis)
    pdf, xlsx = documents.document_pdf(document), documents.document_xlsx(document)
    key = {"kind": kind, "contract": contract, "area": book, "period_start": start}
    saved = []
    try:
        with transaction.atomic():
            previous = ReportRun.objects.select_for_update().filter(**key).order_by("-version").first()
            if first_only and previous is not None:
                raise IntegrityError("report run exists")
            version = 1 if previous is None else previous.version + 1
            run = ReportRun(
                **key, period_end=end, basis=basis, version=version, generated_at=timezone.now(),
                trigger=ReportRun.Trigger.SCHEDULE if by is None else ReportRun.Trigger.USER, generated_by=by,
                parameters={"kind": kind, "contract": contract.code, "book": book.code, "period": period_label(kind, start),
                            "start": start.isoformat(), "end": end.isoformat(), "basis": basis, **(parameters or {})},
                pdf_sha256=_sha256(pdf), xlsx_sha256=_sha256(xlsx),
            )
            name = f"{document.filename}-v{version}"
            run.pdf.save(f"{name}.pdf", ContentFile(pdf), save=False)
            saved.append(run.pdf.name)
            run.xlsx.save(f"{name}.xlsx", ContentFile(xlsx), save=False)
            saved.append(run.xlsx.name)
            run.save()
            ReportRun.objects.filter(**key, status=ReportRun.Status.CURRENT).exclude(pk=run.pk).update(
                status=ReportRun.Status.SUPERSEDED)
            if version == 1 and book.pk == contract.program.region_id:
                due = ReportDue.objects.filter(contract=contract, kind=kind, period_start=start).first()
                if due is not None and term is not None:
                    _track(due, term)
    except Exception:
        for name in saved:  # the row is not there: neither are its files
            default_storage.delete(name)
        raise
    logger.info("report %s %s %s %s v%s generated (%s)", kind, contract.code, book.code, period_label(kind, start), version,
                "schedule" if by is None else by.username)
    return run


def regenerate(run: ReportRun, *, by) -> ReportRun:
    """A new version of the run's report (kind, contract, book, period) with today's data."""
    area = None if run.area_id == run.contract.program.region_id else run.area
    return generate_report(run.kind, run.contract, (run.period_start, run.period_end), area=area, by=by,
                           parameters={"regenerated_from": run.version})


# --- the daily generation ------------------------------------------------------------------


@dataclass
class ScanResult:
    today: dt.date
    created: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class ReportsFailed(Exception):
    pass


def reports_generate_due(*, today: dt.date | None = None) -> ScanResult:
    """Bring every contract's report periods up to date, then generate version 1 of every
    report whose period has ended (today is after its last day) for every book that has no
    run yet. A second scan the same day generates nothing; two at once generate each report
    once (the second insert hits the unique constraint and is skipped). A day beat missed is
    caught up by the next scan. A report that fails is logged and left for the next scan; the
    others are still generated, and the scan then raises so the failure is visible."""
    today = today or timezone.localdate()
    result = ScanResult(today)
    contracts = list(Contract.objects.in_use().select_related("program__region").order_by("code"))  # no draft
    for contract in contracts:
        report_dues_sync(contract)
    have = set(ReportRun.objects.values_list("kind", "contract_id", "area_id", "period_start").distinct())
    dues = ReportDue.objects.filter(period_end__lt=today).select_related("contract__program__region").order_by(
        "period_start", "contract__code", "kind")
    for due in dues:
        for book in report_books(due.contract):
            if (due.kind, due.contract_id, book.pk, due.period_start) in have:
                continue
            area = None if book.pk == due.contract.program.region_id else book
            try:
                run = generate_report(due.kind, due.contract, (due.period_start, due.period_end), area=area, first_only=True)
            except IntegrityError:
                continue  # generated meanwhile by another scan
            except Exception:  # noqa: BLE001 - one broken report must not stop the others
                logger.exception("report %s %s %s %s failed", due.kind, due.contract.code, book.code, due.period_start)
                result.failed.append(f"{due.kind} {due.contract.code} {book.code} {period_label(due.kind, due.period_start)}")
                continue
            result.created.append(run.pk)
    logger.info("report scan %s: %s generated, %s failed", today, len(result.created), len(result.failed))
    if result.failed:
        raise ReportsFailed("; ".join(result.failed))
    return result
