"""The home page of each role (issue 23): the work queues above the person search, and their
counts in the navigation.

Composition only: the claims' queues come from `claims.selectors`, finance's from
`finance.selectors`, the search and contracts from `programs.views.workbench`. This module sits
in the top layer of the import contract (beside the URL conf), so it may import all of them;
none of them imports it.

Who sees which queue follows the permissions of the roles (accounts/roles.py):
- caseworker (claims.change_claim): waiting for documents, due soon, returned, ready to pay out;
- reviewer (claims.review_claim): submitted for review, oldest first;
- finance (claims.pay_claim): approved claims to pay; (finance.manage_finance) payments due.
A supervisor has none of these permissions: their home is the supervision dashboard
(`lands_on_dashboard`), decided here, where the home page is composed: programs knows nothing
of supervision.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims import selectors as claim_selectors
from finance import selectors as finance_selectors
from programs import views as program_views


@dataclass(frozen=True)
class QueueSpec:
    name: str
    label: str
    perms: tuple[str, ...]  # any one of them shows the queue
    kind: str = "claims"  # "claims" or "payments"


QUEUES = (
    QueueSpec("waiting_documents", _("Waiting for documents"), ("claims.change_claim",)),
    QueueSpec("due_soon", _("Due soon"), ("claims.change_claim",)),
    QueueSpec("returned", _("Returned to the window"), ("claims.change_claim",)),
    QueueSpec("submitted", _("Waiting for review"), ("claims.review_claim",)),
    QueueSpec("ready_to_pay", _("Approved, to pay out"), ("claims.change_claim", "claims.pay_claim")),
    QueueSpec("payments_due", _("Premiums and payments due"), ("finance.manage_finance",), kind="payments"),
)


def queues_for(user) -> list[QueueSpec]:
    if not user.is_authenticated:
        return []
    return [q for q in QUEUES if any(user.has_perm(p) for p in q.perms)]


def queue_counts(user, today=None) -> list[tuple[QueueSpec, int]]:
    """[(queue, count)] of the user's queues: one aggregate query over the claims and one count
    of the finance deadlines (each only when the user has such queues)."""
    today = today or timezone.localdate()
    specs = queues_for(user)
    claims = claim_selectors.claim_queue_counts(user, [q.name for q in specs if q.kind == "claims"], today)
    out = []
    for spec in specs:
        if spec.kind == "claims":
            out.append((spec, claims[spec.name]))
        else:
            out.append((spec, finance_selectors.payments_due_count(user, today)))
    return out


@dataclass
class Queue:
    spec: QueueSpec
    rows: list
    count: int


def queues(user, today=None) -> list[Queue]:
    """The user's queues with their first rows (QUEUE_ROWS) and total counts."""
    today = today or timezone.localdate()
    limit = claim_selectors.QUEUE_ROWS
    out = []
    for spec, count in queue_counts(user, today):
        if spec.kind == "claims":
            rows = list(claim_selectors.claim_queue(user, spec.name, today)[:limit]) if count else []
        else:
            rows = [_payment_row(d, today) for d in finance_selectors.payments_due(user, today)[:limit]] if count else []
        out.append(Queue(spec, rows, count))
    return out


def _payment_row(deadline, today) -> dict:
    """A finance deadline as the queue shows it: what, for which contract (by name: the record's
    label starts with the contract's code, which users do not read), when, and where to act."""
    detail = deadline.label
    if deadline.contract is not None and detail.startswith(deadline.contract.code):
        detail = detail[len(deadline.contract.code):].strip()
    return {
        "what": deadline.get_kind_display(), "detail": detail,
        "contract": deadline.contract.name if deadline.contract is not None else "",
        "due_date": deadline.due_date, "overdue": deadline.due_date < today, "link": deadline.link,
    }


def lands_on_dashboard(user) -> bool:
    """A supervisor who may read claims and finance starts on the supervision dashboard."""
    return user.groups.filter(name="supervisor").exists() and user.has_perms(["claims.view_claim", "finance.view_finance"])


@login_required
def home(request):
    """The workbench: the role's queues, then the person search and the year's contracts. A
    supervisor's home is the supervision dashboard; the navigation's "workbench" link adds a
    parameter, so the search stays one click away."""
    if not request.GET and lands_on_dashboard(request.user):
        return redirect("dashboards:dashboard")
    today = timezone.localdate()
    found = queues(request.user, today)
    request.work_queue_counts = [(q.spec, q.count) for q in found]  # the navigation's, without counting twice
    return program_views.workbench(request, extra_context={"queues": found, "today": today})


def navigation(request):
    """Context processor: the queue counts for the navigation, as a callable so the queries run
    only where a template shows them (the header)."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or getattr(request, "tables_busy", False):
        return {}  # the "please wait" page: the claim tables behind the counts are locked
    cached = []

    def nav_queues():
        if not cached:
            counted = getattr(request, "work_queue_counts", None)  # the home page counted them already
            cached.append(counted if counted is not None else queue_counts(user))
        return cached[0]

    return {"nav_queues": nav_queues}
