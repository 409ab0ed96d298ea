"""The complaint pages' forms. Every choice list starts from the user's areas (`for_user`)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models import Claim
from insurance_admin.accounts.models import User
from insurance_admin.core.forms import DateInRangeField, FieldNamedErrors
from insurance_admin.staffing.models import StaffMember
from programs.identity import normalize_certno
from programs.models import Area, Contract, InsuredPerson

from .models import Complaint

TEXT_MAX = 4000
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ComplaintForm(FieldNamedErrors, forms.Form):
    contract = forms.ModelChoiceField(label=_("contract"), queryset=Contract.objects.none())
    area = forms.ModelChoiceField(label=_("area"), queryset=Area.objects.none())
    channel = forms.ChoiceField(label=_("channel"), choices=Complaint.Channel.choices)
    category = forms.ChoiceField(label=_("complaint category"), choices=Complaint.Category.choices)
    complexity = forms.ChoiceField(label=_("complexity"), choices=Complaint.Complexity.choices)
    received_on = DateInRangeField(label=_("received on"), not_future=True, widget=DATE)
    complainant_certno = forms.CharField(label=_("complainant's ID number (if insured)"), max_length=18, required=False)
    complainant_name = forms.CharField(label=_("complainant"), max_length=60, required=False)
    complainant_phone = forms.CharField(label=_("complainant's phone"), max_length=20, required=False)
    about_claim_no = forms.CharField(label=_("about the claim (claim number)"), max_length=30, required=False)
    about_certno = forms.CharField(label=_("about the insured person (ID number)"), max_length=18, required=False)
    about_staff = forms.ModelChoiceField(label=_("about the staff member"), queryset=StaffMember.objects.none(),
                                         required=False)
    summary = forms.CharField(label=_("what the complaint says"), widget=forms.Textarea(attrs={"rows": 4}),
                              max_length=TEXT_MAX)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("initial", {"received_on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["contract"].queryset = Contract.objects.for_user(user).order_by("-year", "code")
        self.fields["area"].queryset = Area.objects.for_user(user).counties().order_by("code")
        self.fields["about_staff"].queryset = StaffMember.objects.for_user(user).select_related("contract").order_by(
            "contract__code", "name")

    def _person(self, field):
        value = self.cleaned_data.get(field, "").strip()
        if not value:
            return None
        try:
            certno = normalize_certno(value)
        except Exception:
            certno = value
        person = InsuredPerson.objects.for_user(self.user).filter(certno=certno).first()
        if person is None:
            self.add_error(field, _("No insured person with this ID number in your areas."))
        return person

    def clean(self):
        data = super().clean()
        data["complainant_person"] = self._person("complainant_certno")
        data["about_person"] = self._person("about_certno")
        number = data.get("about_claim_no", "").strip()
        data["about_claim"] = None
        if number:
            claim = Claim.objects.for_user(self.user).filter(claim_no=number).first()
            if claim is None:
                self.add_error("about_claim_no", _("No claim with this number in your areas."))
            data["about_claim"] = claim
        if not data.get("complainant_person") and not data.get("complainant_name", "").strip() \
                and "complainant_certno" not in self.errors:
            self.add_error("complainant_name", _("Name the complainant: a person of the registry or a name."))
        return data


def assignee_choices(user, complaint: Complaint):
    """Users the actor may see who may handle complaints of the complaint's area."""
    users = (User.objects.for_user(user).filter(is_active=True, areas__isnull=False)
             .filter(groups__permissions__codename="manage_complaint",
                     groups__permissions__content_type__app_label="complaints").distinct().order_by("username"))
    return [u for u in users if Complaint.objects.for_user(u).filter(pk=complaint.pk).exists()]


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("handled by"), coerce=int)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {u.pk: u for u in choices}
        self.fields["assignee"].choices = [(u.pk, u.get_full_name() or u.username) for u in choices]


class TransitionForm(FieldNamedErrors, forms.Form):
    answer = forms.CharField(label=_("answer"), widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_MAX,
                             required=False)
    root_cause = forms.CharField(label=_("root cause"), widget=forms.Textarea(attrs={"rows": 2}), max_length=TEXT_MAX,
                                 required=False)
    rectification = forms.CharField(label=_("rectification"), widget=forms.Textarea(attrs={"rows": 2}),
                                    max_length=TEXT_MAX, required=False)
    on = DateInRangeField(label=_("date"), not_future=True, required=False, widget=DATE)
    note = forms.CharField(label=_("note"), max_length=TEXT_MAX, required=False)


class ReopenForm(FieldNamedErrors, forms.Form):
    reason = forms.CharField(label=_("reason for reopening"), widget=forms.Textarea(attrs={"rows": 2}),
                             max_length=TEXT_MAX)
    on = DateInRangeField(label=_("reopened on"), not_future=True, required=False, widget=DATE)


WHOLE_DAYS = _("Enter a whole number of working days from 1 to 365.")


def _days_field(label):
    return forms.IntegerField(
        label=label, min_value=1, max_value=365, widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
        error_messages={"invalid": WHOLE_DAYS, "min_value": WHOLE_DAYS, "max_value": WHOLE_DAYS})


class DefaultsForm(FieldNamedErrors, forms.Form):
    """A contract's default answer times in whole working days (1–365); every error names its field."""

    simple_days = _days_field(_("default for simple complaints (working days)"))
    complex_days = _days_field(_("default for complex complaints (working days)"))
