"""Forms of the assessment pages and the template admin (Chinese labels through the catalogue)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from insurance_admin.kpis import registry

from .models import Assessment, AssessmentItem, SupervisionWarning
from .services import check_grades, check_weights

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024


class DateInput(forms.DateInput):
    input_type = "date"


class RecordForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Item"), queryset=AssessmentItem.objects.none())
    area = forms.ChoiceField(label=_("Area"))
    on_date = forms.DateField(label=_("Date"), widget=DateInput)
    points = forms.DecimalField(label=_("Points"), max_digits=6, decimal_places=2,
                                help_text=_("Negative: deducted; positive: awarded."))
    finding = forms.CharField(label=_("Finding"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    evidence = forms.FileField(label=_("Evidence file"), required=False, help_text=_("PDF or image, at most 10 MB."))

    def __init__(self, *args, template=None, areas=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = (template.items.filter(kind=AssessmentItem.Kind.INSPECTED).order_by("seq")
                                        if template is not None else AssessmentItem.objects.none())
        self.areas = {str(a.pk): a for a in areas}
        self.fields["area"].choices = [(str(a.pk), a.name) for a in areas]

    def clean_area(self):
        return self.areas[self.cleaned_data["area"]]

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise ValidationError(gettext("Enter the points deducted (negative) or awarded (positive)."))
        return points

    def clean_evidence(self):
        upload = self.cleaned_data.get("evidence")
        if upload and upload.size > MAX_EVIDENCE_BYTES:
            raise ValidationError(gettext("The file is larger than 10 MB."))
        return upload


class RunForm(forms.Form):
    period_start = forms.DateField(label=_("Period from"), widget=DateInput)
    period_end = forms.DateField(label=_("Period to"), widget=DateInput)
    rereview_of = forms.ModelChoiceField(label=_("Re-review of"), queryset=Assessment.objects.none(), required=False,
                                         empty_label=_("— annual assessment —"))

    def __init__(self, *args, failed=None, **kwargs):
        super().__init__(*args, **kwargs)
        if failed is not None:
            self.fields["rereview_of"].queryset = failed

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_start"] > data["period_end"]:
            raise ValidationError(gettext("The period ends before it starts."))
        return data


class DecideForm(forms.Form):
    assessed_on = forms.DateField(label=_("Decided on"), widget=DateInput, initial=timezone.localdate)


class WarningForm(forms.Form):
    on_date = forms.DateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    rectify_by = forms.DateField(label=_("Rectify by"), widget=DateInput, required=False)

    kind = SupervisionWarning.Kind.INTERVIEW


# --- admin -----------------------------------------------------------------------------------


class ItemAdminForm(forms.ModelForm):
    """The indicator is chosen from the KPI registry (its Chinese label), never typed as a key."""

    kpi_key = forms.ChoiceField(label=_("Indicator"), required=False)

    class Meta:
        model = AssessmentItem
        fields = ["seq", "name", "weight", "kind", "kpi_key", "full_at", "points_per_unit", "lower_is_better", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kpi_key"].choices = [("", "—"), *registry.choices()]


class ItemFormSet(forms.BaseInlineFormSet):
    """The template's items together: weights sum to 100 (the error names each item)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        items = [(f.cleaned_data["name"], f.cleaned_data.get("weight") or Decimal("0")) for f in self.forms
                 if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        check_weights(items)


class GradeFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        check_grades([(f.cleaned_data["label"], f.cleaned_data["min_score"]) for f in self.forms
                      if f.cleaned_data and not f.cleaned_data.get("DELETE")])
