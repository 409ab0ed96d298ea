"""Small input forms of the finance pages; each feeds exactly one service."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from insurance_admin.core.forms import DateInRangeField, FieldNamedErrors, MoneyField

from .models import (
    DUE_FIELDS,
    HEADCOUNT_CATEGORIES,
    PREMIUM_EVENTS,
    GuaranteeDeposit,
    InstallmentRule,
    Penalty,
    SimulationTarget,
    _in_order,
    installment_rules_problem,
)
from .services import month_end


def _today():
    return timezone.localdate()


class MovementForm(forms.Form):
    """A money movement against one row: receipt, payment, return, debit, settlement."""

    amount = MoneyField(label=_("Amount (yuan)"), min_value=0)
    on_date = DateInRangeField(label=_("Date"), initial=_today)
    reference = forms.CharField(label=_("Reference"), max_length=80, required=False, help_text=_("e.g. bank voucher number"))
    memo = forms.CharField(label=_("Memo"), max_length=300, required=False)


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the reversal"), max_length=300)
    on_date = DateInRangeField(label=_("Date"), initial=_today)


def parse_headcounts(text: str) -> dict[str, dict[str, int]]:
    """Lines of "area-code category count" (area code may be "-" for the whole region)."""
    result: dict[str, dict[str, int]] = {}
    for number, line in enumerate(text.strip().splitlines(), start=1):
        if not line.strip():
            continue
        parts = re.split(r"[\s,，]+", line.strip())
        if len(parts) != 3 or not parts[2].isdigit():
            raise ValidationError(_("Line %(n)s: write “area-code category count”, e.g. “411324 active 3001”.") % {"n": number})
        if len(parts[2]) > 7:  # more persons than live in any county (and than a premium column can multiply)
            raise ValidationError(_("Line %(n)s: the count %(count)s is too large (at most 9,999,999).")
                                  % {"n": number, "count": parts[2][:20]})
        area = "" if parts[0] == "-" else parts[0]
        result.setdefault(area, {})[parts[1]] = int(parts[2])
    if not result:
        raise ValidationError(_("Enter at least one headcount line."))
    return result


class HeadcountsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value):
        value = super().to_python(value)
        return parse_headcounts(value) if value else None


class ScheduleForm(forms.Form):
    headcounts = HeadcountsField(
        label=_("Headcounts"), required=False,
        help_text=_("One line per area and category: “area-code category count”; “-” as area code for the whole region. "
                    "Empty: the contract's own headcount."),
    )


class HeadcountChangeForm(forms.Form):
    headcounts = HeadcountsField(label=_("New headcounts"))
    effective_on = DateInRangeField(label=_("Effective on"), initial=_today)
    reason = forms.CharField(label=_("Reason"), max_length=300)
    due_date = DateInRangeField(label=_("Due date of the difference"), required=False)


class EventForm(forms.Form):
    event = forms.ChoiceField(label=_("Event"), choices=list(PREMIUM_EVENTS.items()))
    on_date = DateInRangeField(label=_("Date"), initial=_today)


class DepositForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=GuaranteeDeposit.Kind.choices)
    required = MoneyField(label=_("Required amount (yuan)"), min_value=0)
    basis = forms.CharField(label=_("Basis"), max_length=300)


class CasesClosedForm(forms.Form):
    closed_on = DateInRangeField(label=_("Cases closed on"), initial=_today)
    objection = forms.BooleanField(label=_("Objection raised"), required=False)


class RevolvingOpenForm(forms.Form):
    last_year_income = MoneyField(label=_("Last year's income (yuan)"), min_value=0)


class TopUpForm(forms.Form):
    month = DateInRangeField(label=_("Month"), help_text=_("Any day of the month."), initial=lambda: _today().replace(day=1))
    paid_on = DateInRangeField(label=_("Paid on"), required=False, help_text=_("Empty: compute only."))


class PenaltyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Penalty.Kind.choices)
    amount = MoneyField(label=_("Amount (yuan)"), required=False,
                                help_text=_("Empty: computed from the base at the contract's rate."))
    base = MoneyField(label=_("Base (yuan)"), required=False)
    area = forms.ModelChoiceField(label=_("Area"), queryset=None, required=False)
    imposed_on = DateInRangeField(label=_("Imposed on"), initial=_today)
    due_date = DateInRangeField(label=_("Due date"), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, areas=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas


class ReportForm(forms.Form):
    period = forms.CharField(label=_("Period"), max_length=10,
                             help_text=_("2025-03 (month), 2025-Q1 (quarter), 2025-H1 (half year) or 2025 (year)"))


def period_bounds(kind: str, text: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a report period written as 2025-03, 2025-Q1, 2025-H1 or 2025."""
    text = text.strip().upper()
    patterns = {
        "monthly": r"(\d{4})-(\d{1,2})",
        "quarterly": r"(\d{4})-Q([1-4])",
        "semiannual": r"(\d{4})-H([12])",
        "annual": r"(\d{4})",
    }
    match = re.fullmatch(patterns[kind], text)
    if not match:
        raise ValidationError(_("Write the period as %(example)s.") % {
            "example": {"monthly": "2025-03", "quarterly": "2025-Q1", "semiannual": "2025-H1", "annual": "2025"}[kind]})
    year = int(match.group(1))
    if not 1900 <= year <= 2100:
        raise ValidationError(_("The year %(year)s is outside 1900 – 2100.") % {"year": year})
    if kind == "annual":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    n = int(match.group(2))
    first_month, months = {"monthly": (n, 1), "quarterly": (3 * n - 2, 3), "semiannual": (6 * n - 5, 6)}[kind]
    if not 1 <= first_month <= 12:
        raise ValidationError(_("No such month."))
    start = dt.date(year, first_month, 1)
    return start, month_end(dt.date(year, first_month + months - 1, 1))


class SimulationTermsForm(FieldNamedErrors, forms.Form):
    """The scenario's premium side of a simulation (测算): a per-capita premium per category
    of the premium schedule, and the target the suggested premium must reach (a surplus rate,
    by default the contract's retention limit, or a loss ratio), in percent."""

    target_kind = forms.ChoiceField(label=_("The suggested premium reaches"), choices=SimulationTarget.choices,
                                    initial=SimulationTarget.SURPLUS_RATE, widget=forms.RadioSelect)
    target = forms.DecimalField(label=_("Target (%)"), max_digits=7, decimal_places=2, min_value=0, max_value=100)

    def __init__(self, per_capita: dict, retention_limit: Decimal, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].initial = (Decimal(retention_limit) * 100).normalize()
        self.categories = []
        for category, amount in _in_order(per_capita, HEADCOUNT_CATEGORIES):
            name = f"per_capita_{category}"
            self.fields[name] = MoneyField(label=_("Per-capita premium: %(category)s (yuan)") % {
                "category": HEADCOUNT_CATEGORIES.get(category, category)}, initial=Decimal(str(amount)), min_value=0)
            self.categories.append((category, name))

    def clean(self):
        data = super().clean()
        kind, target = data.get("target_kind"), data.get("target")
        if kind and target is not None:
            if kind == SimulationTarget.SURPLUS_RATE and target >= 100:
                self.add_error("target", _("A surplus rate must be below 100 %."))
            if kind == SimulationTarget.LOSS_RATIO and target <= 0:
                self.add_error("target", _("A loss ratio must be above 0 %."))
        return data

    def per_capita(self) -> dict[str, Decimal]:
        return {category: self.cleaned_data[name] for category, name in self.categories}

    def target_fraction(self) -> Decimal:
        return (self.cleaned_data["target"] / 100).normalize()

    def changes(self) -> list[tuple[str, str, str]]:
        return [(str(self.fields[name].label), f"{self.fields[name].initial:,.2f}", f"{self.cleaned_data[name]:,.2f}")
                for _category, name in self.categories if name in self.changed_data]


class InstallmentRuleFormSet(forms.BaseInlineFormSet):
    """A contract's premium installments together: the shares make the whole premium (100 %),
    at most one installment takes the remainder (errors from `installment_rules_problem`)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        rules = [f.instance for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        problem = installment_rules_problem(rules)
        if problem:
            raise ValidationError(problem)


# --- "the later of several" due rule, in fields -------------------------------------------

#: conditions offered for "the later of several" (the contracts name two; four leave room)
DUE_PARTS_MAX = 4
#: the fields of one condition, in the order the widget shows them
DUE_PART_KEYS = ("kind", "month", "day", "days", "event")
DUE_PART_KINDS = [(k, label) for k, label in InstallmentRule.DueKind.choices if k != InstallmentRule.DueKind.LATEST_OF]


_PART_LABELS = {"kind": _("due rule"), "month": _("month"), "day": _("day"), "days": _("number of days"),
                "event": _("counted from the event")}


def _part_label(key: str) -> str:
    return str(_PART_LABELS[key])


class DuePartsWidget(forms.MultiWidget):
    """One row of fields per condition: its kind, month, day, days and event (no JSON)."""

    def __init__(self, attrs=None):
        number = {"style": "width:5em"}
        widgets = []
        for _n in range(DUE_PARTS_MAX):
            widgets += [forms.Select(choices=[("", "—"), *DUE_PART_KINDS]),
                        forms.NumberInput(attrs={**number, "min": 1, "max": 12}),
                        forms.NumberInput(attrs={**number, "min": 1, "max": 31}),
                        forms.NumberInput(attrs={**number, "min": 0}),
                        forms.Select(choices=[("", "—"), *PREMIUM_EVENTS.items()])]
        super().__init__(widgets, attrs)

    def decompress(self, value):
        flat = []
        for part in (value if isinstance(value, list) else [])[:DUE_PARTS_MAX]:
            part = part if isinstance(part, dict) else {}
            flat += ["" if part.get(key) is None else part.get(key) for key in DUE_PART_KEYS]
        return flat + [""] * (DUE_PARTS_MAX * len(DUE_PART_KEYS) - len(flat))

    def get_context(self, name, value, attrs):
        if not isinstance(value, list) or not value or any(isinstance(v, dict) for v in value):
            value = self.decompress(value)  # the stored list of conditions (or nothing)
        return super().get_context(name, value, attrs)

    def render(self, name, value, attrs=None, renderer=None):
        subwidgets = self.get_context(name, value, attrs)["widget"]["subwidgets"]
        size = len(DUE_PART_KEYS)
        rows = []
        for n in range(DUE_PARTS_MAX):
            cells = []
            for k, key in enumerate(DUE_PART_KEYS):
                sub = subwidgets[n * size + k]
                html = self.widgets[n * size + k].render(sub["name"], sub["value"], sub["attrs"], renderer)
                cells.append((_part_label(key), html))
            rows.append(format_html('<div class="due-part"><strong>{}</strong> {}</div>',
                                    gettext("Condition %(n)s") % {"n": n + 1},
                                    format_html_join(" ", "<label>{} {}</label>", cells)))
        return format_html('<div class="due-parts">{}</div>', format_html_join("", "{}", ((r,) for r in rows)))


class DuePartsField(forms.MultiValueField):
    """The conditions of "the later of several" as a list of {"kind", ...} dicts (the model's
    `due_parts`); a number that is not a whole number, or a condition without its kind, is
    refused naming the condition and the field. The rest (unknown event, missing days or month)
    is the model's `due_parts_problem`, which names them the same way."""

    widget = DuePartsWidget

    def __init__(self, **kwargs):
        for key in ("encoder", "decoder", "max_length"):
            kwargs.pop(key, None)
        kwargs["required"] = False
        fields = [forms.CharField(required=False) for _n in range(DUE_PARTS_MAX * len(DUE_PART_KEYS))]
        super().__init__(fields, require_all_fields=False, **kwargs)

    def compress(self, data_list):
        size = len(DUE_PART_KEYS)
        parts = []
        for n in range(len(data_list) // size):
            values = dict(zip(DUE_PART_KEYS, (v or "" for v in data_list[n * size:(n + 1) * size]), strict=True))
            if not any(values.values()):
                continue
            if values["kind"] not in dict(DUE_PART_KINDS):
                raise ValidationError(gettext("Condition %(n)s: %(error)s") % {
                    "n": n + 1, "error": gettext("choose its kind (%(kinds)s).") % {
                        "kinds": "、".join(str(label) for _k, label in DUE_PART_KINDS)}}, code="due_parts")
            part = {"kind": values["kind"]}
            for key in ("month", "day", "days", "event"):
                if key not in DUE_FIELDS[values["kind"]]:
                    continue  # a field the kind does not use (left over from another kind)
                value = values[key].strip()
                if key != "event" and value:
                    if not re.fullmatch(r"-?\d{1,4}", value):
                        raise ValidationError(gettext("Condition %(n)s: %(error)s") % {
                            "n": n + 1, "error": gettext("「%(field)s」 must be a whole number.") % {"field": _part_label(key)}},
                            code="due_parts")
                    value = int(value)
                part[key] = value if value != "" else None
            parts.append(part)
        return parts

    def has_changed(self, initial, data):
        try:
            return (initial or []) != self.clean(data)
        except ValidationError:
            return True


class InstallmentRuleForm(forms.ModelForm):
    """An installment rule in the admin: "the later of several" in fields, not JSON."""

    due_parts = DuePartsField(
        label=_("conditions (the later is due)"),
        help_text=_("For “the later of several”: fill one row per condition (at least two); the installment is due on "
                    "the latest of their dates. Leave the rows empty for the other due rules."))

    class Meta:
        model = InstallmentRule
        fields = ("seq", "share", "takes_remainder", "due_kind", "due_month", "due_day", "due_days", "due_event", "due_parts",
                  "note", "clause")

    def clean(self):
        data = super().clean()
        if data.get("due_kind") != InstallmentRule.DueKind.LATEST_OF and "due_parts" in data:
            data["due_parts"] = []  # conditions only count for "the later of several"
        return data
