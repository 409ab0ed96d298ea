"""Status machines for long-running batches, on the claim workflow's pattern (claims/workflow.py):
one transition table per model, one service that checks the table, saves and writes a
status-change row (who or what, when, from, to, message) in the same transaction.

The enrollment list import (`programs.ImportBatch`) and the hospital monthly file
(`claims.HospitalBatch`) each declare a `StateMachine` beside their services; nothing else
assigns their status (tests/core/test_transitions.py scans for it).

Two ways in:
- `move(obj, to, ...)`: the caller holds the row (inside `transaction.atomic`, locked
  `select_for_update`), sets its other fields, and the machine changes the status and saves;
- `claim(pk, expected, to, ...)`: a worker takes a batch from one of the `expected` states with
  `select_for_update(skip_locked=True)` and commits the move at once, so a redelivered task
  finds it taken (or already past) and gets None.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TransitionRefused(ValidationError):
    """A move the transition table does not allow."""


class StatusChangeBase(models.Model):
    """One status change of a batch. Concrete models add the foreign key to their batch."""

    from_status = models.CharField(_("from"), max_length=20, blank=True)
    to_status = models.CharField(_("to"), max_length=20)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, null=True,
                           blank=True, related_name="+", help_text=_("empty when a background task made the change"))
    at = models.DateTimeField(_("at"), auto_now_add=True)
    message = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class StateMachine:
    def __init__(self, model: type[models.Model], change_model: type[StatusChangeBase], fk: str,
                 table: Mapping[str, Iterable[str]]):
        self.model = model
        self.change_model = change_model
        self.fk = fk
        self.table = {str(k): frozenset(str(t) for t in v) for k, v in table.items()}
        statuses = {str(value) for value, _label in model.Status.choices}
        if set(self.table) != statuses or not set().union(*self.table.values()) <= statuses:
            raise ValueError(f"{model.__name__}: the transition table must name every status, and only statuses")

    def _label(self, status: str) -> str:
        return str(self.model.Status(status).label) if status else "—"

    def allowed(self, from_status: str, to: str) -> bool:
        return str(to) in self.table[str(from_status)]

    def check(self, from_status: str, to: str) -> None:
        if not self.allowed(from_status, to):
            raise TransitionRefused(
                gettext("A batch that is %(from)s cannot become %(to)s.")
                % {"from": self._label(from_status), "to": self._label(to)},
                code="transition",
            )

    def record(self, obj, from_status: str, to: str, *, by=None, message: str = "") -> None:
        self.change_model.objects.create(**{self.fk: obj}, from_status=from_status or "", to_status=to, by=by,
                                         message=message[:2000])

    def created(self, obj, *, by=None, message: str = "") -> None:
        """The first row of a new batch (saved by the caller in the same transaction)."""
        self.record(obj, "", obj.status, by=by, message=message)

    def move(self, obj, to: str, *, by=None, message: str = "", update_fields: Iterable[str] | None = None):
        """Check, set the status, save (all fields, or `update_fields` plus the status) and
        write the change row. The caller holds the row inside a transaction."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("a status change runs inside the transaction that holds the row")
        previous = obj.status
        self.check(previous, to)
        obj.status = to
        if update_fields is None:
            obj.save()
        else:
            obj.save(update_fields=sorted({*update_fields, "status"}))
        self.record(obj, previous, to, by=by, message=message)
        return obj

    @transaction.atomic
    def move_by_pk(self, pk: int, to: str, *, by=None, message: str = "",
                   prepare: Callable[[models.Model], Iterable[str] | None] | None = None):
        """Lock the row (waiting for it), let `prepare` set other fields (returning their
        names), move it. For the failure paths, which run after the step's own transaction
        rolled back."""
        obj = self.model.objects.select_for_update().get(pk=pk)
        fields = prepare(obj) if prepare else ()
        return self.move(obj, to, by=by, message=message, update_fields=fields or ())

    def claim(self, pk: int, expected: Iterable[str] | models.Q, to: str, *, by=None, message: str = "",
              prepare: Callable[[models.Model], Iterable[str] | None] | None = None):
        """Take the batch from one of the `expected` states (a list of statuses, or a Q) with
        SKIP LOCKED and commit the move; None when another worker holds it or it has moved on."""
        condition = expected if isinstance(expected, models.Q) else models.Q(status__in=[str(s) for s in expected])
        with transaction.atomic():
            obj = self.model.objects.select_for_update(skip_locked=True).filter(condition, pk=pk).first()
            if obj is None:
                return None
            fields = prepare(obj) if prepare else ()
            self.move(obj, to, by=by, message=message, update_fields=fields or ())
        return obj
