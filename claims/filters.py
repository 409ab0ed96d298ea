"""The claim lists' filters (django-filter). Querysets and choice lists start from the user's
areas (`for_user`), so a filter can never widen what a caseworker sees."""

import django_filters
from django import forms
from django.db.models import DecimalField, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.models import Area, Contract

from .models import Claim

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
