"""A benefit plan's figures as a form people fill in, not a JSON document: each liability's
deductibles, band bounds and rates (in percent), caps and named parameters, labelled with the
liability and the persons and records the row applies to, validated with Chinese messages that
name the liability, the row and the band.

Used wherever a plan is changed for a new year or tried out: the renewal of a contract and the
simulation's scenario (测算). The structure (which liabilities, which rows, who they apply to)
stays as the document has it; only figures change here.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insurance_admin.core.forms import FieldNamedErrors, MoneyField
from programs.benefit_rules.plan_dict import PlanFormatError, plan_from_dict
from programs.benefit_rules.validation import validate_plan

from .presentation import describe_selector, plan_problem_in_chinese

HUNDRED = Decimal(100)


def _is_param(value) -> bool:
    return isinstance(value, dict) and "param" in value


def _percent(rate) -> Decimal:
    """0.7 -> 70 (not 7E+1, which `normalize()` gives and a form field would show)."""
    value = (Decimal(str(rate)) * HUNDRED).normalize()
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _shown(value) -> str:
    return "—" if value is None else format(value, "f") if isinstance(value, Decimal) else str(value)


class PlanFiguresForm(FieldNamedErrors, forms.Form):
    """Bound to a plan document; `document()` returns the changed copy once valid."""

    def __init__(self, plan_document: dict, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.original = plan_document
        plan = plan_from_dict(plan_document)
        self.groups: list[dict] = []  # for the template: one group per liability, rows of field names
        for i, (li_doc, li) in enumerate(zip(plan_document["liabilities"], plan.liabilities, strict=True)):
            group = {"name": li.name, "rows": [], "caps": []}
            for j, (row_doc, row) in enumerate(zip(li_doc["schedule"], li.schedule, strict=True)):
                where = describe_selector(row.when)
                entry = {"when": where, "deductible": None, "bands": []}
                if not _is_param(row_doc["deductible"]):
                    name = f"l{i}_r{j}_deductible"
                    self.fields[name] = MoneyField(label=_("%(liability)s · %(when)s · deductible") % {
                        "liability": li.name, "when": where}, initial=Decimal(str(row_doc["deductible"])), min_value=0)
                    entry["deductible"] = name
                for k, band_doc in enumerate(row_doc["bands"]):
                    upto = None
                    if band_doc["upto"] is not None and not _is_param(band_doc["upto"]):
                        upto = f"l{i}_r{j}_b{k}_upto"
                        self.fields[upto] = MoneyField(label=_("%(liability)s · %(when)s · band %(band)d upper bound") % {
                            "liability": li.name, "when": where, "band": k + 1},
                            initial=Decimal(str(band_doc["upto"])), min_value=0)
                    rate = f"l{i}_r{j}_b{k}_rate"
                    self.fields[rate] = forms.DecimalField(
                        label=_("%(liability)s · %(when)s · band %(band)d rate (%%)") % {
                            "liability": li.name, "when": where, "band": k + 1},
                        initial=_percent(band_doc["rate"]), max_digits=7, decimal_places=4)
                    entry["bands"].append({"upto": upto, "rate": rate, "open": band_doc["upto"] is None})
                group["rows"].append(entry)
            for j, (cap_doc, cap) in enumerate(zip(li_doc["caps"], li.caps, strict=True)):
                if _is_param(cap_doc["amount"]):
                    continue
                name = f"l{i}_c{j}_amount"
                self.fields[name] = MoneyField(
                    label=_("%(liability)s · %(when)s · annual cap (empty: no cap)") % {
                        "liability": li.name, "when": describe_selector(cap.when)},
                    initial=None if cap_doc["amount"] is None else Decimal(str(cap_doc["amount"])),
                    required=False, min_value=0)
                group["caps"].append(name)
            self.groups.append(group)
        self.parameter_fields = []
        for p, param in enumerate(plan_document.get("parameters", [])):
            name = f"p{p}"
            self.fields[name] = MoneyField(label=param.get("description") or param["name"],
                                           initial=Decimal(str(param["value"])), min_value=0)
            self.parameter_fields.append(name)

    def _rate_error(self, field: str, value: Decimal) -> None:
        if not Decimal(0) <= value <= HUNDRED:
            self.add_error(field, _("The rate must lie between 0 and 100 %."))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        document = copy.deepcopy(self.original)
        changed = set(self.changed_data)  # unchanged figures keep their text as the document has it
        for i, li_doc in enumerate(document["liabilities"]):
            for j, row_doc in enumerate(li_doc["schedule"]):
                name = f"l{i}_r{j}_deductible"
                lower = data.get(name) if name in data else None
                if name in changed:
                    row_doc["deductible"] = str(data[name])
                for k, band_doc in enumerate(row_doc["bands"]):
                    rate = f"l{i}_r{j}_b{k}_rate"
                    value = data[rate]
                    self._rate_error(rate, value)
                    if rate in changed:
                        band_doc["rate"] = str((value / HUNDRED).normalize())
                    upto = f"l{i}_r{j}_b{k}_upto"
                    if upto in data:
                        value = data[upto]  # read first: add_error drops it from cleaned_data
                        if lower is not None and value <= lower:
                            self.add_error(upto, _("It must be above %(lower)s: bands may not overlap.") % {
                                "lower": f"{lower:,.2f}"})
                        if upto in changed:
                            band_doc["upto"] = str(value)
                        lower = value
            for j, cap_doc in enumerate(li_doc["caps"]):
                name = f"l{i}_c{j}_amount"
                if name in changed:
                    cap_doc["amount"] = None if data[name] is None else str(data[name])
        for p, param in enumerate(document.get("parameters", [])):
            if f"p{p}" in changed:
                param["value"] = str(data[f"p{p}"])
        if self.errors:
            return data
        try:
            changed_plan = plan_from_dict(document)
            # the engine's English, said in Chinese with the liability's name, row and band
            problems = [plan_problem_in_chinese(p, changed_plan) for p in validate_plan(changed_plan)]
        except PlanFormatError as exc:
            problems = [str(exc)]
        if problems:
            raise ValidationError([_("The plan is not valid: %(problem)s") % {"problem": p} for p in problems])
        self._document = document
        return data

    def document(self) -> dict:
        """The changed plan document (after is_valid())."""
        return self._document

    def changes(self) -> list[tuple[str, str, str]]:
        """(field label, before, after) for every figure changed, for the page and the audit."""
        out = []
        for name in self.changed_data:
            field = self.fields[name]
            before = field.initial
            out.append((str(field.label), _shown(before), _shown(self.cleaned_data.get(name))))
        return out


PLAN_FIGURES_HELP = gettext_lazy("Rates in percent (60 = 60 %); amounts in yuan; an empty cap means no cap.")
