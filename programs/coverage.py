"""Cover on a date: was a person covered by a contract on a given day (a record's discharge
date — the year and the cover of a record are those of its discharge date, DOMAIN.md §4), in
which period of the registry, and with which attributes the benefit rules select on?

One answer for every caller: registration, 试算, approval, hospital batches and the
recomputation. `CoverageTimeline.on(day)` is the rule; `coverage_on` asks it for one person,
`coverage_timelines` loads many persons' timelines in two queries for the batch paths.

The registry's dated states (programs/registry_models.py): the `Enrollment` row holds the
current state since `attributes_from` (empty: since `enrolled_from`) until `enrolled_to` (an
exit or an end date); every earlier state is an `EnrollmentPeriod` (active, suspended, or the
`exited` gap between an exit and a return). Health, the no-claim continuity and the student
flag are not dated by the registry (its lists do not carry them): the enrollment's values hold
for the whole year.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass

from django.utils.translation import gettext

from .models import Contract, Enrollment, EnrollmentPeriod, InsuredPerson

COVERED = ""
NOT_ENROLLED = "not_enrolled"
OUTSIDE_YEAR = "outside_year"
BEFORE_START = "before_start"
AFTER_END = "after_end"
GAP = "gap"
SUSPENDED = "suspended"

#: the attributes the benefit rules select on (the engine's PersonAttributes fields)
RULE_ATTRIBUTES = ("category", "employment", "health", "continuous_no_claim_3y", "student")


@dataclass(frozen=True, slots=True)
class Coverage:
    """The answer for one day. `covered` False: `reason` says why and `period_from` ..
    `period_to` is the period shown (the enrollment's own span for before-start / after-end,
    the gap or the suspension otherwise; `period_to` None: open-ended). Covered: the period
    whose state applies and the attributes as they stood that day."""

    on: dt.date
    covered: bool
    reason: str
    period_from: dt.date | None
    period_to: dt.date | None
    enrollment_id: int | None = None
    area_id: int | None = None
    category: str = ""
    category_detail: str = ""
    employment: str = ""
    health: str = ""
    continuous_no_claim_3y: bool = False
    student: bool = False

    def attributes(self) -> dict:
        """The rule attributes as plain values (the engine's PersonAttributes keywords)."""
        return {name: getattr(self, name) for name in RULE_ATTRIBUTES}

    @property
    def message(self) -> str:
        """Why the day is not covered, naming the period, in the user's language ("" when covered)."""
        if self.covered:
            return ""
        words = {
            "date": self.on.isoformat(),
            "start": self.period_from.isoformat() if self.period_from else "",
            "end": self.period_to.isoformat() if self.period_to else "",
        }
        if self.reason == NOT_ENROLLED:
            return gettext("Not covered on %(date)s: no enrollment in this contract.") % words
        if self.reason == OUTSIDE_YEAR:
            return gettext("Not covered on %(date)s: outside the insurance year %(start)s – %(end)s.") % words
        if self.reason == BEFORE_START:
            return gettext("Not covered on %(date)s: the enrollment starts on %(start)s.") % words
        if self.reason == AFTER_END:
            return gettext("Not covered on %(date)s: the enrollment ran from %(start)s to %(end)s and ended there.") % words
        if self.reason == GAP:
            return gettext("Not covered on %(date)s: exited from %(start)s to %(end)s (a gap in the enrollment).") % words
        if self.period_to is None:
            return gettext("Not covered on %(date)s: the enrollment is suspended since %(start)s.") % words
        return gettext("Not covered on %(date)s: the enrollment was suspended from %(start)s to %(end)s.") % words


def not_covered_message(*, reason: str, on: str, start: str = "", end: str = "") -> str:
    """The message of a stored refusal (ISO dates as text), in the language of the reader."""
    day = lambda text: dt.date.fromisoformat(text) if text else None  # noqa: E731
    return Coverage(day(on), False, reason, day(start), day(end)).message


# (valid_from, valid_to, status, area_id, category, category_detail, employment)
_Period = tuple


class CoverageTimeline:
    """One person's states in one contract through the year; `on(day)` is the rule."""

    __slots__ = ("period_start", "period_end", "enrollment", "periods", "_starts")

    def __init__(self, *, period_start: dt.date, period_end: dt.date, enrollment: dict | None,
                 periods: list[_Period] = ()) -> None:
        self.period_start, self.period_end = period_start, period_end
        self.enrollment = enrollment  # the in-force Enrollment row's values, or None
        self.periods = sorted(periods)
        self._starts = [p[0] for p in self.periods]

    def on(self, day: dt.date) -> Coverage:
        e = self.enrollment
        if not (self.period_start <= day <= self.period_end):
            return Coverage(day, False, OUTSIDE_YEAR, self.period_start, self.period_end,
                            e and e["id"])
        if e is None:
            return Coverage(day, False, NOT_ENROLLED, None, None)
        start, end = e["enrolled_from"], e["enrolled_to"]
        if day < start:
            return Coverage(day, False, BEFORE_START, start, end, e["id"])
        if end is not None and day > end:
            return Coverage(day, False, AFTER_END, start, end, e["id"])
        fixed = {"health": e["health"], "continuous_no_claim_3y": e["continuous_no_claim_3y"], "student": e["student"]}
        i = bisect_right(self._starts, day) - 1
        if i >= 0 and self.periods[i][1] >= day:
            valid_from, valid_to, status, area_id, category, detail, employment = self.periods[i]
            if status == EnrollmentPeriod.Status.EXITED:
                return Coverage(day, False, GAP, valid_from, valid_to, e["id"])
            if status == EnrollmentPeriod.Status.SUSPENDED:
                return Coverage(day, False, SUSPENDED, valid_from, valid_to, e["id"])
            return Coverage(day, True, COVERED, valid_from, valid_to, e["id"], area_id, category, detail, employment, **fixed)
        since = e["attributes_from"] or start
        if e["status"] == Enrollment.Status.SUSPENDED and day >= since:
            return Coverage(day, False, SUSPENDED, since, None, e["id"])
        return Coverage(day, True, COVERED, since if day >= since else start, end, e["id"], e["area_id"], e["category"],
                        e["category_detail"], e["employment"], **fixed)

    def covers(self, day: dt.date) -> bool:
        """`on(day).covered`, without building the answer in the common case (an enrollment
        without dated states, not suspended): the recomputation asks it for every record."""
        e = self.enrollment
        if e is None or self.periods or e["status"] == Enrollment.Status.SUSPENDED:
            return self.on(day).covered
        end = e["enrolled_to"]
        return (self.period_start <= day <= self.period_end and e["enrolled_from"] <= day
                and (end is None or day <= end))

    def attribute_changes(self) -> list[tuple[dt.date, dict]]:
        """The rule attributes from each date on which they changed while covered, ascending
        (one entry for a person whose attributes never changed in the year)."""
        e = self.enrollment
        if e is None:
            return []
        fixed = {"health": e["health"], "continuous_no_claim_3y": e["continuous_no_claim_3y"], "student": e["student"]}
        states = [(p[0], {"category": p[4], "employment": p[6], **fixed})
                  for p in self.periods if p[2] == EnrollmentPeriod.Status.ACTIVE]
        states.append((e["attributes_from"] or e["enrolled_from"],
                       {"category": e["category"], "employment": e["employment"], **fixed}))
        states.sort(key=lambda s: s[0])
        changes: list[tuple[dt.date, dict]] = []
        for start, attrs in states:
            if not changes or changes[-1][1] != attrs:
                changes.append((start, attrs))
        return changes


_ENROLLMENT_FIELDS = ("id", "person_id", "area_id", "category", "category_detail", "employment", "health",
                      "continuous_no_claim_3y", "student", "enrolled_from", "enrolled_to", "status", "attributes_from")
_PERIOD_FIELDS = ("enrollment_id", "valid_from", "valid_to", "status", "area_id", "category", "category_detail", "employment")


def coverage_timelines(*, contract: Contract, person_ids=None, chunk_size: int = 20000) -> dict[int, CoverageTimeline]:
    """The timelines of the contract's enrolled persons (or of `person_ids`: ids or a values()
    queryset), keyed by person id, in two queries. A person without an in-force enrollment is
    absent (`timeline_or_empty` answers "not enrolled" for them)."""
    enrollments = Enrollment.objects.in_force().filter(contract=contract)
    periods = EnrollmentPeriod.objects.filter(enrollment__contract=contract).exclude(
        enrollment__status=Enrollment.Status.CANCELLED)
    if person_ids is not None:
        enrollments = enrollments.filter(person_id__in=person_ids)
        periods = periods.filter(enrollment__person_id__in=person_ids)
    by_enrollment: dict[int, list[_Period]] = {}
    for enrollment_id, *rest in periods.values_list(*_PERIOD_FIELDS).iterator(chunk_size=chunk_size):
        by_enrollment.setdefault(enrollment_id, []).append(tuple(rest))
    timelines = {}
    for values in enrollments.values(*_ENROLLMENT_FIELDS).iterator(chunk_size=chunk_size):
        timelines[values["person_id"]] = CoverageTimeline(
            period_start=contract.period_start, period_end=contract.period_end, enrollment=values,
            periods=by_enrollment.get(values["id"], ()),
        )
    return timelines


def timeline_or_empty(timelines: dict[int, CoverageTimeline], person_id: int, contract: Contract) -> CoverageTimeline:
    found = timelines.get(person_id)
    if found is None:
        found = CoverageTimeline(period_start=contract.period_start, period_end=contract.period_end, enrollment=None)
    return found


def coverage_timeline(*, person: InsuredPerson, contract: Contract) -> CoverageTimeline:
    return timeline_or_empty(coverage_timelines(contract=contract, person_ids=[person.pk]), person.pk, contract)


def coverage_on(*, person: InsuredPerson, contract: Contract, on: dt.date) -> Coverage:
    """Was `person` covered by `contract` on `on`, in which period, with which attributes?"""
    return coverage_timeline(person=person, contract=contract).on(on)
