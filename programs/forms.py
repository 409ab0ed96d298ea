from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from insurance_admin.core.forms import DateInRangeField

from .models import Contract, Enrollment, InsuredPerson


class InsuredPersonAdminForm(forms.ModelForm):
    """Birth date and sex may be left empty: they are read from the ID number."""

    class Meta:
        model = InsuredPerson
        fields = ["certno", "name", "sex", "birth_date", "psn_no", "phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("sex", "birth_date"):
            if name in self.fields:
                self.fields[name].required = False


class EnrollmentInlineFormSet(forms.BaseInlineFormSet):
    """One policy per person and contract, checked across the rows of the form and against
    the database before anything is written (the inline form cannot see the constraint)."""

    def clean(self):
        super().clean()
        seen = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("status") == Enrollment.Status.CANCELLED:
                continue
            contract = data.get("contract")
            if contract is None:
                continue
            if contract.pk in seen:
                form.add_error("contract", _("This person is already enrolled in this contract."))
                continue
            seen[contract.pk] = form
            if self.instance.pk:
                clash = (
                    Enrollment.objects.in_force()
                    .filter(person=self.instance, contract=contract)
                    .exclude(pk=form.instance.pk)
                )
                if clash.exists():
                    form.add_error("contract", _("This person is already enrolled in this contract."))
        if any(form.errors for form in self.forms):
            raise ValidationError(_("Please correct the enrollments below."))


class ImportUploadForm(forms.Form):
    """An enrollment list for one contract (the contract choices are the user's)."""

    from .models import ImportBatch as _Batch

    contract = forms.ModelChoiceField(label=gettext_lazy("Contract"), queryset=None)
    file = forms.FileField(label=gettext_lazy("File (CSV in UTF-8 or GBK, or XLSX)"))
    effective_date = DateInRangeField(
        label=gettext_lazy("Effective date"),
        help_text=gettext_lazy("Additions, changes and exits in this list take effect on this date."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=_Batch.Mode.choices, initial=_Batch.Mode.FULL)
    source = forms.ChoiceField(label=gettext_lazy("Source"), choices=_Batch.Source.choices, initial=_Batch.Source.GROUP)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["contract"].queryset = Contract.objects.for_user(user).select_related("program")
