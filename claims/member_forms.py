"""Forms of the member-service and phone-report pages (issue 23 item 5)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from insurance_admin.core.forms import DateInRangeField, FieldNamedErrors, MoneyField

from .models import EntitlementKind

DATE = {"attrs": {"type": "date"}, "format": "%Y-%m-%d"}


class EntitlementUseForm(FieldNamedErrors, forms.Form):
    kind = forms.ModelChoiceField(label=gettext_lazy("service"), queryset=EntitlementKind.objects.none())
    used_on = DateInRangeField(label=gettext_lazy("date of use"), not_future=True, widget=forms.DateInput(**DATE))
    purchase_amount = MoneyField(label=gettext_lazy("purchase amount (drug purchases)"), required=False)
    note = forms.CharField(label=gettext_lazy("note"), max_length=200, required=False)

    def __init__(self, *args, contract, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("used_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        kinds = EntitlementKind.objects.filter(group__contract=contract).select_related("group").order_by(
            "group__position", "group_id", "position", "id")
        field = self.fields["kind"]
        field.queryset = kinds
        groups: dict = {}
        for kind in kinds:
            groups.setdefault(kind.group.name, []).append((kind.pk, kind.name))
        field.choices = [("", "---------"), *groups.items()]


class ReportFilterForm(forms.Form):
    contract = forms.ModelChoiceField(label=gettext_lazy("contract"), queryset=None, to_field_name="code",
                                      required=False)
    month = forms.RegexField(label=gettext_lazy("month"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", required=False,
                             widget=forms.TextInput(attrs={"type": "month"}))

    def __init__(self, *args, contracts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = contracts
        self.fields["contract"].label_from_instance = lambda c: c.name


class PhoneReportForm(FieldNamedErrors, forms.Form):
    """A claim reported by phone; the person is found by ID number when the caller gives it."""

    certno = forms.CharField(label=gettext_lazy("ID number of the insured person"), max_length=18, required=False)
    insured_name = forms.CharField(label=gettext_lazy("insured person's name (as told)"), max_length=60, required=False)
    area = forms.ModelChoiceField(label=gettext_lazy("area"), queryset=None, required=False)
    caller_name = forms.CharField(label=gettext_lazy("caller"), max_length=60)
    caller_phone = forms.CharField(label=gettext_lazy("caller's phone"), max_length=20)
    caller_relation = forms.CharField(label=gettext_lazy("relation to the insured person"), max_length=20, required=False)
    reported_at = forms.DateTimeField(label=gettext_lazy("reported at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                      widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    summary = forms.CharField(label=gettext_lazy("what happened"), max_length=2000, required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    told_to_bring = forms.ModelMultipleChoiceField(label=gettext_lazy("told to bring"), queryset=None, required=False,
                                                   widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=gettext_lazy("note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, requirements, areas, person=None, **kwargs):
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("reported_at", timezone.localtime().replace(second=0, microsecond=0))
        initial.setdefault("told_to_bring", [r.pk for r in requirements if r.required])
        super().__init__(*args, **kwargs)
        self.person = person
        self.fields["told_to_bring"].queryset = requirements
        self.fields["area"].queryset = areas
        if person is not None:  # the person and their area are known
            for name in ("certno", "insured_name", "area"):
                del self.fields[name]

    def clean_reported_at(self):
        value = self.cleaned_data["reported_at"]
        if value > timezone.now():
            raise forms.ValidationError(gettext_lazy("The time of the call is in the future."))
        return value


class PhoneReportPersonForm(FieldNamedErrors, forms.Form):
    certno = forms.CharField(label=gettext_lazy("ID number of the insured person"), max_length=18)
