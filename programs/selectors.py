"""Reads for the workbench: person search within the user's areas."""

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.utils import timezone

from .identity import looks_like_certno, normalize_certno, parse_certno
from .models import Area, Contract, Enrollment, InsuredPerson

SEARCH_LIMIT = 50


@dataclass
class PersonRow:
    person: InsuredPerson
    enrollments: list[Enrollment]  # in the user's areas, newest contract first
    year_enrollment: Enrollment | None  # the one in force in the selected year, if any


@dataclass
class PersonSearch:
    query: str
    kind: str  # "certno", "psn_no", "name" or "" when nothing was asked
    year: int
    rows: list[PersonRow] = field(default_factory=list)
    certno_problem: str = ""  # the typed ID number is itself invalid (told, still searched)
    truncated: bool = False


def _enrollments_prefetch(user) -> Prefetch:
    qs = Enrollment.objects.for_user(user).select_related("contract", "contract__program", "area")
    return Prefetch("enrollments", queryset=qs.order_by("-contract__year", "contract__code"), to_attr="visible_enrollments")


def enrollment_for_year(enrollments: list[Enrollment], year: int) -> Enrollment | None:
    for e in enrollments:
        if e.contract.year == year and e.status != Enrollment.Status.CANCELLED:
            return e
    return None


def visible_years(user) -> list[int]:
    return sorted(set(Contract.objects.for_user(user).values_list("year", flat=True)), reverse=True)


def default_year(user, today: dt.date | None = None) -> int:
    """The newest contract year in the user's areas that has started; else this year."""
    today = today or timezone.localdate()
    started = [y for y in visible_years(user) if y <= today.year]
    return started[0] if started else today.year


def search_persons(user, query: str, year: int) -> PersonSearch:
    query = (query or "").strip()
    if not query:
        return PersonSearch(query="", kind="", year=year)
    base = InsuredPerson.objects.for_user(user)
    result = PersonSearch(query=query, kind="name", year=year)
    if looks_like_certno(query):
        result.kind = "certno"
        certno = normalize_certno(query)
        try:
            parse_certno(certno)
        except ValidationError as exc:
            result.certno_problem = " ".join(exc.messages)
        qs = base.filter(Q(certno=certno) | Q(psn_no=query))
    elif any(ch.isdigit() for ch in query):
        result.kind = "psn_no"
        qs = base.filter(psn_no=query)
    else:
        qs = base.filter(name__startswith=query)
    persons = list(qs.prefetch_related(_enrollments_prefetch(user)).order_by("name", "certno")[: SEARCH_LIMIT + 1])
    result.truncated = len(persons) > SEARCH_LIMIT
    result.rows = [
        PersonRow(p, p.visible_enrollments, enrollment_for_year(p.visible_enrollments, year))
        for p in persons[:SEARCH_LIMIT]
    ]
    return result


def person_for_user(user, pk: int) -> InsuredPerson:
    """The person with their enrollments in the user's areas; DoesNotExist outside them."""
    return InsuredPerson.objects.for_user(user).prefetch_related(_enrollments_prefetch(user)).get(pk=pk)


def user_area_names(user) -> list[str]:
    """What the search covers, as told to the user; empty when they are unrestricted."""
    if user.is_superuser:
        return []
    return list(Area.objects.for_user(user).counties().order_by("code").values_list("name", flat=True))
