"""The dashboard's choice of contract, area and period (GET). Choices start from the user's
contracts and areas, so a request can never widen what the user sees: a foreign id is simply
not a valid choice."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from programs.models import Area, Contract

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContractChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class AreaChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class DashboardForm(forms.Form):
    contract = ContractChoice(label=_("contract"), queryset=Contract.objects.none(), required=False)
    area = AreaChoice(label=_("area"), queryset=Area.objects.none(), required=False, empty_label=_("all my areas"))
    start = forms.DateField(label=_("period from"), required=False, widget=DATE)
    end = forms.DateField(label=_("period to"), required=False, widget=DATE)

    def __init__(self, data, *, contracts, areas: list[Area]):
        super().__init__(data)
        self.fields["contract"].queryset = contracts
        self.fields["contract"].empty_label = None
        self.fields["area"].queryset = Area.objects.filter(pk__in=[a.pk for a in areas]).order_by("level", "code")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start) > dt.timedelta(days=3 * 366):
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return data
