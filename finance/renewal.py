"""Renewal of a contract into its next year (续签下一年度), as data (issue 22).

`renewal_create` copies the contract and every registered terms model's rows
(`programs.contract_terms`) into a DRAFT contract for the next year, with every date moved by
one year (`shift_year`); the administrator changes what the new agreement changes;
`renewal_problems` validates the whole draft with each model's own checks (the benefit plan
through the engine's `validate_plan`); `renewal_activate` makes it usable for enrollment and
claims, optionally rolling the in-force enrollments forward; `contract_close` ends a year
(it stays readable and its late claims within the filing window are still registered).

It lives in the finance layer because it copies claims and finance terms; supervision terms
are reached through the registry their apps fill in.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import update_change_reason

from programs import services as program_services
from programs.contract_terms import TermsSpec, terms_models
from programs.models import BenefitPlan, Contract, EnrollmentCarryForward

from .simulation_runs import simulation_plan_document

#: Dates that record something done under the old year: the new year starts without them.
CLEARED_ON_RENEWAL: dict[str, set[str]] = {
    "finance.FinanceTerms": {"service_window_ready_on", "annual_audit_done_on"},
}
#: Plan document keys holding dates, moved with the year wherever they appear.
PLAN_DATE_KEYS = {"period_start", "period_end", "enddate_from", "enddate_to"}


def shift_year(day: dt.date | None, years: int = 1) -> dt.date | None:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    if day is None:
        return None
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _year_text(text: str, year: int) -> str:
    """`text` with the four-digit year `year` (not part of a longer number) replaced by the next."""
    return re.sub(rf"(?<!\d){year}(?!\d)", str(year + 1), text)


def next_code(contract: Contract) -> str:
    """The next year's code by the seed codes' pattern ("tongliao-2025" → "tongliao-2026")."""
    code = _year_text(contract.code, contract.year)
    return code if code != contract.code else f"{contract.code}-{contract.year + 1}"


def shift_plan_document(rules: dict, old: Contract, new: Contract) -> dict:
    """A benefit plan document for the next year: code, name, year, period and every selector's
    date range moved by one year (deep copy; figures untouched)."""

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key in PLAN_DATE_KEYS and isinstance(value, str):
                    out[key] = shift_year(dt.date.fromisoformat(value)).isoformat()
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    document = walk(copy.deepcopy(rules))
    document["code"] = new.code
    document["year"] = new.year
    document["period_start"] = new.period_start.isoformat()
    document["period_end"] = new.period_end.isoformat()
    if isinstance(document.get("name"), str):
        document["name"] = _year_text(document["name"], old.year)
    return document


def _is_date(field) -> bool:
    return isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)


def _skipped(field) -> bool:
    return field.primary_key or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)


def renewed_value(row, field, old: Contract, new: Contract):
    """What the renewal writes into `field` of the copy of `row` (before anything is changed)."""
    value = getattr(row, field.attname)
    label = row._meta.label
    if _is_date(field):
        return None if field.name in CLEARED_ON_RENEWAL.get(label, set()) else shift_year(value)
    if label == "programs.BenefitPlan" and field.name == "rules":
        return shift_plan_document(value, old, new)
    if label == "programs.BenefitPlan" and field.name == "version":
        return 1
    return copy.deepcopy(value)


def _clone(row, old: Contract, new: Contract, **overrides):
    clone = type(row)()
    for field in row._meta.concrete_fields:
        if _skipped(field):
            continue
        setattr(clone, field.attname, renewed_value(row, field, old, new))
    for name, value in overrides.items():
        setattr(clone, name, value)
    clone.save()
    if hasattr(clone._meta, "simple_history_manager_attribute"):
        update_change_reason(clone, f"renewal of contract {old.pk}")
    return clone


def contract_terms(contract: Contract) -> list[tuple[TermsSpec, list]]:
    """Each per-contract terms model with the contract's rows (by pk, the order they were copied)."""
    return [(tm, list(tm.model._default_manager.filter(**{tm.fk: contract}).order_by("pk")))
            for tm in terms_models() if tm.per_contract]


def _next_cycle(contract: Contract, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The service cycle continues when the next year lies within it; else a new cycle of the
    same length starts with the next year."""
    if contract.service_cycle_start <= start and end <= contract.service_cycle_end:
        return contract.service_cycle_start, contract.service_cycle_end
    years = contract.service_cycle_end.year - contract.service_cycle_start.year
    return start, max(end, shift_year(end, years))


@transaction.atomic
def renewal_create(*, contract: Contract, user) -> Contract:
    """The next year's contract as a draft copy of `contract` and all its terms. Returns the
    existing draft when one is being prepared."""
    old = Contract.objects.select_for_update().get(pk=contract.pk)
    if old.status == Contract.Status.DRAFT:
        raise ValidationError(_("A draft cannot be renewed; activate it first."))
    existing = Contract.objects.filter(program=old.program, year=old.year + 1).first()
    if existing is not None:
        if existing.status == Contract.Status.DRAFT:
            return existing
        raise ValidationError(_("The next year's contract exists already."))
    start, end = shift_year(old.period_start), shift_year(old.period_end)
    cycle_start, cycle_end = _next_cycle(old, start, end)
    new = Contract(
        code=next_code(old), program=old.program, name=_year_text(old.name, old.year), year=old.year + 1,
        period_start=start, period_end=end, signed_on=None, service_cycle_start=cycle_start, service_cycle_end=cycle_end,
        authority=old.authority, insurer=old.insurer,
        headcount_provisional=old.headcount_provisional, headcount_provisional_date=shift_year(old.headcount_provisional_date),
        headcount_final=None, headcount_final_date=None, total_premium=None,
        slip_title=_year_text(old.slip_title, old.year), notes=old.notes,
        status=Contract.Status.DRAFT, renewed_from=old,
    )
    if Contract.objects.filter(code=new.code).exists():
        raise ValidationError(_("The next year's contract exists already."))
    new.full_clean()
    new.save()
    update_change_reason(new, f"renewal of contract {old.pk} by {user.pk}")
    for tm, rows in contract_terms(old):
        for row in rows:
            copied = _clone(row, old, new, **{tm.fk: new})
            for relation in tm.children:
                rel = row._meta.get_field(relation)
                for child in getattr(row, relation).all().order_by("pk"):
                    _clone(child, old, new, **{rel.field.name: copied})
    return new


# --- changes on the draft ------------------------------------------------------------------


def _draft(contract: Contract) -> Contract:
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.status != Contract.Status.DRAFT:
        raise ValidationError(_("This contract is not a draft any more."))
    return locked


@transaction.atomic
def renewal_update(*, contract: Contract, user, plan_rules: dict | None = None,
                   per_capita: dict[int, Decimal] | None = None, headcount: dict | None = None) -> Contract:
    """Apply the administrator's changes to a draft: the plan document (from PlanFiguresForm),
    per-capita premiums {PremiumRate pk: amount} and the provisional headcount."""
    draft = _draft(contract)
    reason = f"renewal draft changed by {user.pk}"
    if plan_rules is not None:
        plan = BenefitPlan.objects.get(contract=draft)
        if plan.rules != plan_rules:
            program_services.benefit_plan_update(benefit_plan=plan, rules=plan_rules, reason=reason)
    for rate in draft.premium_rates.select_for_update().filter(pk__in=list(per_capita or {})):
        if rate.per_capita != per_capita[rate.pk]:
            rate.per_capita = per_capita[rate.pk]
            rate.full_clean()
            rate.save()
            update_change_reason(rate, reason)
    if headcount is not None:
        changed = False
        for name, value in headcount.items():
            if getattr(draft, name) != value:
                setattr(draft, name, value)
                changed = True
        if changed:
            draft.full_clean()
            draft.save()
            update_change_reason(draft, reason)
    return draft


@transaction.atomic
def renewal_from_simulation(*, run, user) -> Contract:
    """设为续签方案: a finished simulation's scenario becomes next year's plan and per-capita
    premiums, on the renewal draft of the run's contract (created if there is none). The plan's
    dates move a year like every renewed term; validation and activation stay on the draft."""
    document = simulation_plan_document(run)
    draft = renewal_create(contract=run.contract, user=user)
    rules = shift_plan_document(document, run.contract, draft)
    scenario = run.per_capita or {}
    per_capita = {rate.pk: Decimal(str(scenario[rate.headcount_category]))
                  for rate in draft.premium_rates.all() if rate.headcount_category in scenario}
    return renewal_update(contract=draft, user=user, plan_rules=rules, per_capita=per_capita)


def _problems_of(obj, section: str) -> list[str]:
    try:
        obj.full_clean()
    except ValidationError as exc:
        out = []
        for name, messages in exc.message_dict.items():
            label = section
            if name != NON_FIELD_ERRORS:
                try:
                    label = f"{section} · {obj._meta.get_field(name).verbose_name}"
                except Exception:  # noqa: BLE001 - a message keyed by something else than a field
                    label = section
            out += [f"{label}：{m}" for m in messages]
        return out
    return []


def renewal_problems(contract: Contract) -> list[str]:
    """Every problem of the draft's terms, each naming its terms and field (empty: valid)."""
    problems = _problems_of(contract, str(Contract._meta.verbose_name))
    for tm, rows in contract_terms(contract):
        section = str(tm.model._meta.verbose_name)
        for row in rows:
            problems += _problems_of(row, section)
            for relation in tm.children:
                for child in getattr(row, relation).all():
                    problems += _problems_of(child, f"{section} · {child._meta.verbose_name}")
    if not BenefitPlan.objects.filter(contract=contract).exists():
        problems.append(_("The contract has no benefit plan."))
    return problems


@dataclass(frozen=True)
class Activation:
    contract: Contract
    enrollments: int
    carry_forward: EnrollmentCarryForward | None = None


@transaction.atomic
def renewal_activate(*, contract: Contract, user, roll_forward: bool) -> Activation:
    """Activate a valid draft; with `roll_forward`, the old year's in-force enrollments are
    enrolled in the new year from its first day by a Celery job enqueued when this commits (a
    region's millions take minutes; its progress is the returned `carry_forward` row), else the
    new list is awaited."""
    draft = _draft(contract)
    problems = renewal_problems(draft)
    if problems:
        raise ValidationError(problems)
    draft.status = Contract.Status.ACTIVE
    draft.save(update_fields=["status"])
    update_change_reason(draft, f"renewal activated by {user.pk}")
    carry = None
    if roll_forward and draft.renewed_from_id:
        carry = program_services.enrollment_carry_forward_start(source=draft.renewed_from, target=draft,
                                                                on=draft.period_start, user=user)
    return Activation(draft, 0, carry)


@transaction.atomic
def contract_close(*, contract: Contract, user, today: dt.date | None = None) -> Contract:
    """结束年度: an active contract whose period has ended becomes closed. It stays readable;
    claims within its filing window are still registered."""
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    if locked.status != Contract.Status.ACTIVE:
        raise ValidationError(_("Only an active contract can be closed."))
    if (today or timezone.localdate()) <= locked.period_end:
        raise ValidationError(_("The insurance year has not ended yet (it ends on %(end)s).") % {"end": locked.period_end})
    locked.status = Contract.Status.CLOSED
    locked.save(update_fields=["status"])
    update_change_reason(locked, f"year closed by {user.pk}")
    return locked


# --- what changed against last year --------------------------------------------------------


@dataclass(frozen=True)
class Change:
    section: str
    label: str
    before: str
    after: str


def _shown(field, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:,.2f}" if value == value.quantize(Decimal("0.01")) else f"{value.normalize():f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return _("(changed)")
    return str(value)


#: Contract fields an administrator changes on the draft (the rest follow the year).
CONTRACT_CHANGED = ("headcount_provisional", "headcount_provisional_date", "signed_on", "total_premium")


def _row_label(row) -> str:
    if row._meta.label == "programs.PremiumRate":
        return f"{row.get_category_display()} · {row.get_employment_display()}"
    return ""


def _plan_changes(expected: dict, actual: dict) -> list[Change]:
    from claims.plan_forms import PlanFiguresForm

    before, after = PlanFiguresForm(expected), PlanFiguresForm(actual)
    section = str(BenefitPlan._meta.verbose_name)
    out = []
    for name, field in after.fields.items():
        if name in before.fields and before.fields[name].initial != field.initial:
            out.append(Change(section, str(field.label), _shown(None, before.fields[name].initial), _shown(None, field.initial)))
    return out


def renewal_changes(draft: Contract) -> list[Change]:
    """Every figure of the draft that differs from last year's (dates moved by a year do not
    count as a change), with its terms, its field and both values in words."""
    old = draft.renewed_from
    if old is None:
        return []
    out = []
    for name in CONTRACT_CHANGED:
        field = Contract._meta.get_field(name)
        expected = getattr(old, name) if name == "headcount_provisional" else (
            shift_year(getattr(old, name)) if name == "headcount_provisional_date" else None)
        if getattr(draft, name) != expected:
            out.append(Change(str(Contract._meta.verbose_name), str(field.verbose_name),
                              _shown(field, getattr(old, name)), _shown(field, getattr(draft, name))))
    old_terms = dict((tm.model._meta.label, rows) for tm, rows in contract_terms(old))
    for tm, rows in contract_terms(draft):
        section = str(tm.model._meta.verbose_name)
        previous = old_terms.get(tm.model._meta.label, [])
        for index, row in enumerate(rows):
            if index >= len(previous):
                out.append(Change(section, _row_label(row) or section, "—", _("added")))
                continue
            was = previous[index]
            for field in row._meta.concrete_fields:
                if _skipped(field) or field.name == tm.fk or (tm.model._meta.label, field.name) == ("programs.BenefitPlan", "version"):
                    continue
                expected, actual = renewed_value(was, field, old, draft), getattr(row, field.attname)
                if expected == actual:
                    continue
                if tm.model._meta.label == "programs.BenefitPlan" and field.name == "rules":
                    out += _plan_changes(expected, actual)
                    continue
                label = " · ".join(x for x in (_row_label(row), str(field.verbose_name)) if x)
                out.append(Change(section, label, _shown(field, getattr(was, field.attname)), _shown(field, actual)))
    return out
