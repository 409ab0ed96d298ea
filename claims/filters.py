"""The claim lists' filters (django-filter). Querysets and choice lists start from the user's
areas (`for_user`), so a filter can never widen what a caseworker sees."""

import django_filters
from django import forms
from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.benefit_rules.glossary import HOSP_LEVELS, PLACES
from programs.models import Area, Contract, Enrollment

from .models import Calculation, Claim, Settlement

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OPEN = [s for s in Claim.Status.values if s not in ("paid", "rejected", "withdrawn")]


def _areas(request):
    return Area.objects.for_user(request.user).counties().order_by("code") if request else Area.objects.none()


def _contracts(request):
    return Contract.objects.for_user(request.user).order_by("code") if request else Contract.objects.none()


class ClaimFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("claim number"), field_name="claim_no", lookup_expr="iexact", max_length=40)
    status = django_filters.MultipleChoiceFilter(label=_("status"), choices=Claim.Status.choices)
    contract = django_filters.ModelChoiceFilter(label=_("contract"), queryset=_contracts)
    area = django_filters.ModelChoiceFilter(label=_("area"), queryset=_areas)
    area_code = django_filters.CharFilter(field_name="area__code", widget=forms.HiddenInput, max_length=12)
    # bounded: a 50,000-character LIKE pattern is "too complex" for SQLite (a 500) and slow anywhere
    hospital = django_filters.CharFilter(label=_("hospital"), field_name="fixmedins_name", lookup_expr="icontains",
                                         max_length=200)
    due_from = django_filters.DateFilter(label=_("due from"), field_name="due_date", lookup_expr="gte", widget=DATE)
    due_to = django_filters.DateFilter(label=_("due until"), field_name="due_date", lookup_expr="lte", widget=DATE)
    overdue = django_filters.BooleanFilter(
        label=_("overdue"), method="filter_overdue",
        widget=forms.Select(choices=[("", _("all")), ("true", _("yes")), ("false", _("no"))]),
    )
    amount_min = django_filters.NumberFilter(label=_("amount from"), method="filter_amount_min")
    amount_max = django_filters.NumberFilter(label=_("amount up to"), method="filter_amount_max")
    # Drill-downs from the supervisor's dashboard (hidden: the dashboard sets them, the list keeps
    # them); each selects exactly the claims a dashboard figure counts (insurance_admin.kpis).
    registered_from = django_filters.DateFilter(field_name="registered_at__date", lookup_expr="gte", widget=forms.HiddenInput)
    registered_to = django_filters.DateFilter(field_name="registered_at__date", lookup_expr="lte", widget=forms.HiddenInput)
    approved_from = django_filters.DateFilter(field_name="approved_at__date", lookup_expr="gte", widget=forms.HiddenInput)
    approved_to = django_filters.DateFilter(field_name="approved_at__date", lookup_expr="lte", widget=forms.HiddenInput)
    paid_from = django_filters.DateFilter(field_name="paid_on", lookup_expr="gte", widget=forms.HiddenInput)
    paid_to = django_filters.DateFilter(field_name="paid_on", lookup_expr="lte", widget=forms.HiddenInput)
    within_limit = django_filters.BooleanFilter(method="filter_within_limit", widget=forms.HiddenInput)
    place = django_filters.ChoiceFilter(choices=[(v, v) for v in PLACES], widget=forms.HiddenInput)
    hosp_lv = django_filters.ChoiceFilter(choices=[(v, v) for v in HOSP_LEVELS], method="filter_hosp_lv",
                                          widget=forms.HiddenInput)
    category = django_filters.ChoiceFilter(choices=Enrollment.Category.choices, method="filter_category",
                                           widget=forms.HiddenInput)
    liability = django_filters.CharFilter(method="filter_liability", max_length=40, widget=forms.HiddenInput)
    hospital_code = django_filters.CharFilter(field_name="fixmedins_code", max_length=30, widget=forms.HiddenInput)

    class Meta:
        model = Claim
        fields = []

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN, due_date__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def _amount(self, queryset):
        # approved amount once there is one, the trial amount before
        return queryset.annotate(amount=Coalesce(F("payable"), F("trial_payable"), output_field=DecimalField()))

    def filter_amount_min(self, queryset, name, value):
        return self._amount(queryset).filter(amount__gte=value)

    def filter_amount_max(self, queryset, name, value):
        return self._amount(queryset).filter(amount__lte=value)

    def filter_within_limit(self, queryset, name, value):
        """Paid claims with a due date: paid on or before it (true) or after it (false)."""
        if value is None:
            return queryset
        limited = queryset.filter(due_date__isnull=False, paid_on__isnull=False)
        return limited.filter(paid_on__lte=F("due_date")) if value else limited.filter(paid_on__gt=F("due_date"))

    def filter_hosp_lv(self, queryset, name, value):
        # the level of the claim's first settlement record (a claim is registered for one hospital)
        first = Settlement.objects.filter(claim=OuterRef("pk")).order_by("id").values("hosp_lv")[:1]
        return queryset.annotate(first_hosp_lv=Subquery(first)).filter(first_hosp_lv=value)

    def filter_category(self, queryset, name, value):
        return queryset.filter(Exists(Enrollment.objects.filter(person=OuterRef("person"), contract=OuterRef("contract"),
                                                                category=value)))

    def filter_liability(self, queryset, name, value):
        return queryset.filter(Exists(Calculation.objects.filter(claim=OuterRef("pk"), by_liability__has_key=value)))
