from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("", views.index, name="index"),
    path("contracts/<slug:code>/", views.contract_detail, name="contract"),
    path("contracts/<slug:code>/run/", views.run, name="run"),
    path("contracts/<slug:code>/warning/", views.warning_add, name="warning_add"),
    path("contracts/<slug:code>/records/add/", views.record_add, name="record_add"),
    path("records/", views.record_list, name="record_list"),
    path("records/<int:pk>/evidence/", views.record_evidence, name="record_evidence"),
    path("<int:pk>/", views.assessment_detail, name="assessment_detail"),
    path("<int:pk>/decide/", views.assessment_decide, name="assessment_decide"),
]
