"""Drill-down links: every figure of the dashboard leads to the claims (or entries) it counts.
The claim list's filters (`claims.filters.ClaimFilter`) select exactly what each KPI counts;
the list is scoped to the user's areas whatever the link says."""

from __future__ import annotations

from functools import cached_property
from urllib.parse import urlencode

from django.urls import reverse

from programs.models import Area


def selection_query(selection) -> str:
    params = {"contract": selection.contract.pk, "start": selection.start.isoformat(), "end": selection.end.isoformat()}
    if selection.area is not None:
        params["area"] = selection.area.pk
    return urlencode(params)


class Links:
    """URLs for the template (`links.received`, `links.place.in_region`, ...)."""

    def __init__(self, selection):
        self.s = selection
        self._claim_list = reverse("claim_list")  # once: the page has a hundred links
        self._made: dict[str, str] = {}  # the charts and the tables ask for the same links

    def _claims(self, **params) -> str:
        key = repr(params)
        if key not in self._made:
            self._made[key] = self._claims_url(params)
        return self._made[key]

    def _claims_url(self, params: dict) -> str:
        s = self.s
        base = [("contract", s.contract.pk)]
        area = s.area
        if area is not None and area.level == Area.Level.COUNTY:
            base.append(("area", area.pk))
        pairs = base + [(k, v) for k, v in params.items() if not isinstance(v, list | tuple)]
        pairs += [(k, item) for k, v in params.items() if isinstance(v, list | tuple) for item in v]
        return f"{self._claim_list}?{urlencode(pairs)}"

    def _period(self, prefix: str) -> dict:
        return {f"{prefix}_from": self.s.start.isoformat(), f"{prefix}_to": self.s.end.isoformat()}

    def month(self, kind: str, month) -> str:
        import calendar
        import datetime as dt

        last = dt.date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
        first, last = max(month, self.s.start), min(last, self.s.end)
        prefix = {"received": "registered", "approved": "approved", "paid": "paid"}[kind]
        status = {"received": [], "approved": ["approved", "paid"], "paid": ["paid"]}[kind]
        return self._claims(status=status, **{f"{prefix}_from": first.isoformat(), f"{prefix}_to": last.isoformat()})

    @property
    def received(self):
        return self._claims(**self._period("registered"))

    @property
    def approved(self):
        return self._claims(status=["approved", "paid"], **self._period("approved"))

    @property
    def paid(self):
        return self._claims(status=["paid"], **self._period("paid"))

    @property
    def paid_on_time(self):
        return self._claims(status=["paid"], within_limit="true", **self._period("paid"))

    @property
    def paid_late(self):
        return self._claims(status=["paid"], within_limit="false", **self._period("paid"))

    @property
    def overdue_claims(self):
        return self._claims(overdue="true")

    def payout(self, dimension: str, key: str) -> str:
        params = {"liability": "liability", "level": "hosp_lv", "place": "place", "category": "category",
                  "hospital": "hospital_code"}
        return self._claims(status=["approved", "paid"], **{params[dimension]: key}, **self._period("approved"))

    @property
    def finance(self):
        return reverse("finance:contract", args=[self.s.contract.code])

    @cached_property
    def hospital_batches(self):
        return reverse("hospital_batch_list")
