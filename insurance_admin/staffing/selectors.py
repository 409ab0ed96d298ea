"""Staffing shortfalls on a date: the roster against the contract's commitments, exactly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from programs.models import Area, Contract

from .models import StaffingCommitment, StaffMember, TeamRole


def commitment_for(contract: Contract) -> StaffingCommitment:
    commitment = StaffingCommitment.objects.filter(contract=contract).first()
    if commitment is None:
        # from the database only: a contract without a row commits to nothing yet
        commitment, _created = StaffingCommitment.objects.get_or_create(contract=contract)
    return commitment


@dataclass(frozen=True)
class Shortfall:
    kind: str  # total | medical | window_below | window_above | role_missing | notice_short
    area: Area | None  # the county window, or None for the contract as a whole
    required: int
    actual: int
    text: str

    @property
    def key(self) -> tuple:
        return (self.kind, self.area.code if self.area else None, self.required, self.actual)


def windows_of(contract: Contract) -> list[Area]:
    """The service windows a contract staffs: each county of a pooling region, or the county
    the program covers."""
    region = contract.program.region
    if region.level == Area.Level.POOL:
        return list(region.children.order_by("code"))
    return [region]


def staffing_shortfalls(contract: Contract, on: dt.date, *, area_ids: Iterable[int] | None = None) -> list[Shortfall]:
    """Every way the roster on `on` falls short of the contract's commitment. `area_ids`
    restricts the result to those windows (and the contract-wide figures to callers whose
    areas include the program's region); None: everything."""
    commitment = commitment_for(contract)
    scope = None if area_ids is None else set(area_ids)
    whole = scope is None or contract.program.region_id in scope
    members = list(StaffMember.objects.filter(contract=contract).active_on(on).select_related("area", "replaces"))
    out: list[Shortfall] = []
    if whole and commitment.min_total is not None and len(members) < commitment.min_total:
        out.append(Shortfall("total", None, commitment.min_total, len(members), _(
            "%(actual)s staff on the roster, the contract requires at least %(required)s.") % {
            "actual": len(members), "required": commitment.min_total}))
    medical = sum(1 for m in members if m.medical_background)
    if whole and commitment.min_medical is not None and medical < commitment.min_medical:
        out.append(Shortfall("medical", None, commitment.min_medical, medical, _(
            "%(actual)s staff with a medical background, the contract requires at least %(required)s.") % {
            "actual": medical, "required": commitment.min_medical}))
    low, high = commitment.min_fulltime_per_window, commitment.max_fulltime_per_window
    if low is not None or high is not None:
        for window in windows_of(contract):
            if scope is not None and window.pk not in scope:
                continue
            count = sum(1 for m in members if m.area_id == window.pk and m.full_time and m.at_window)
            if low is not None and count < low:
                out.append(Shortfall("window_below", window, low, count, _(
                    "%(area)s: %(actual)s full-time staff at the window, the contract requires at least %(required)s.") % {
                    "area": window.name, "actual": count, "required": low}))
            if high is not None and count > high:
                out.append(Shortfall("window_above", window, high, count, _(
                    "%(area)s: %(actual)s full-time staff at the window, the contract allows at most %(required)s.") % {
                    "area": window.name, "actual": count, "required": high}))
    if whole:
        filled = {m.team_role for m in members}
        for role in commitment.team_roles or []:
            if role not in filled:
                out.append(Shortfall("role_missing", None, 1, 0, _("Nobody holds the post %(role)s.") % {
                    "role": TeamRole(role).label}))
        for member in notice_breaches(commitment, members):
            given = notice_given(member)
            out.append(Shortfall("notice_short", None, commitment.notice_days, given, _(
                "%(name)s replaced the first contact on %(day)s with %(given)s days' notice, the contract requires "
                "%(required)s.") % {"name": member.name, "day": member.active_from.isoformat(), "given": given,
                                    "required": commitment.notice_days}))
    return out


def notice_given(member: StaffMember) -> int:
    """Calendar days between the notice and the replacement's first day (0 without notice)."""
    if member.notice_given_on is None:
        return 0
    return max((member.active_from - member.notice_given_on).days, 0)


def notice_breaches(commitment: StaffingCommitment, members: list[StaffMember]) -> list[StaffMember]:
    """First contacts who replaced a predecessor with less notice than the contract requires."""
    if not commitment.first_contact_role or commitment.notice_days is None:
        return []
    return [m for m in members if m.team_role == commitment.first_contact_role and m.replaces_id is not None
            and notice_given(m) < commitment.notice_days]


def member_flags(contract: Contract, members: Iterable[StaffMember]) -> set[int]:
    """Ids of the members whose replacement notice was too short (flagged on the roster)."""
    commitment = commitment_for(contract)
    return {m.pk for m in notice_breaches(commitment, list(members))}

