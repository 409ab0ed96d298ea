"""The plain forms of a renewal draft besides the plan's figures (claims.plan_forms): the
per-capita premium of each category (programs.PremiumRate) and the provisional headcount."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insurance_admin.core.forms import DateInRangeField, FieldNamedErrors, MoneyField


def rate_label(rate) -> str:
    """A premium rate's category in words ("普通 · 任意在职状态")."""
    return f"{rate.get_category_display()} · {rate.get_employment_display()}"


class PremiumRatesForm(FieldNamedErrors, forms.Form):
    """One per-capita premium field per PremiumRate row of the draft."""

    def __init__(self, rates, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rates = list(rates)
        for rate in self.rates:
            self.fields[f"rate_{rate.pk}"] = MoneyField(
                label=_("Per-capita premium (yuan a year): %(category)s") % {"category": rate_label(rate)},
                initial=rate.per_capita, min_value=0)

    def per_capita(self) -> dict:
        return {rate.pk: self.cleaned_data[f"rate_{rate.pk}"] for rate in self.rates}


class HeadcountForm(FieldNamedErrors, forms.Form):
    headcount_provisional = forms.IntegerField(label=gettext_lazy("provisional headcount"), min_value=0, required=False)
    headcount_provisional_date = DateInRangeField(label=gettext_lazy("provisional headcount cut-off"), required=False,
                                                  widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    signed_on = DateInRangeField(label=gettext_lazy("signing date"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
