"""The complaint list's filters: querysets and choices start from the user's areas."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from programs.models import Area, Contract

from .models import Complaint

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OPEN = [Complaint.Status.RECEIVED, Complaint.Status.INVESTIGATING]


def _areas(request):
    return Area.objects.for_user(request.user).counties().order_by("code") if request else Area.objects.none()


def _contracts(request):
    return Contract.objects.for_user(request.user).order_by("code") if request else Contract.objects.none()


class ComplaintFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("complaint number"), field_name="complaint_no", lookup_expr="iexact",
                                  max_length=30)
    status = django_filters.MultipleChoiceFilter(label=_("status"), choices=Complaint.Status.choices)
    contract = django_filters.ModelChoiceFilter(label=_("contract"), queryset=_contracts)
    area = django_filters.ModelChoiceFilter(label=_("area"), queryset=_areas)
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Complaint.Channel.choices)
    category = django_filters.ChoiceFilter(label=_("complaint category"), choices=Complaint.Category.choices)
    received_from = django_filters.DateFilter(label=_("received from"), field_name="received_on", lookup_expr="gte",
                                              widget=DATE)
    received_to = django_filters.DateFilter(label=_("received until"), field_name="received_on", lookup_expr="lte",
                                            widget=DATE)
    overdue = django_filters.BooleanFilter(
        label=_("overdue"), method="filter_overdue",
        widget=forms.Select(choices=[("", _("all")), ("true", _("yes")), ("false", _("no"))]),
    )

    class Meta:
        model = Complaint
        fields = []

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=OPEN, answer_due__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
