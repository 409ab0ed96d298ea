"""Sections a higher layer adds to the person page (issue 23: a person's whole picture).

programs sits below claims: the person page cannot import the claims it should list. So the
page calls the sections registered here, and claims registers its own in `AppConfig.ready()`
(claims, year-to-date totals, instant settlements). A section provider gets the request, the
person (already scoped to the user's areas, with `visible_enrollments`) and the selected year,
and returns a `PersonSection`, or None when it has nothing for this user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PersonSection:
    template: str  # rendered with the page's context plus `section` (this object)
    context: dict = field(default_factory=dict)
    order: int = 100  # lower first; the enrollments come before every section


SectionProvider = Callable[..., "PersonSection | None"]
_providers: list[SectionProvider] = []


def register_section(provider: SectionProvider) -> SectionProvider:
    """Register `provider(request, person, year)` (once per provider)."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def sections_for(request, person, year: int) -> list[PersonSection]:
    found = [s for s in (provider(request, person, year) for provider in _providers) if s is not None]
    return sorted(found, key=lambda s: s.order)
