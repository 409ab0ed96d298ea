from django.urls import path

from . import claim_views, member_views

urlpatterns = [
    path("", claim_views.claim_list, name="claim_list"),
    path("deadlines/", claim_views.claim_deadlines, name="claim_deadlines"),
    path("member-services/", member_views.member_service_report, name="member_service_report"),
    path("phone-reports/", member_views.phone_report_list, name="phone_report_list"),
    path("phone-reports/new/", member_views.phone_report_add, name="phone_report_add"),
    path("phone-reports/<int:pk>/", member_views.phone_report_detail, name="phone_report_detail"),
    path("new/<int:person_pk>/<slug:contract_code>/", claim_views.claim_register_view, name="claim_register"),
    path("<int:pk>/", claim_views.claim_detail, name="claim_detail"),
    path("<int:pk>/transition/", claim_views.claim_transition_view, name="claim_transition"),
    path("<int:pk>/deductions/", claim_views.claim_deduction_view, name="claim_deduction"),
    path("<int:pk>/documents/", claim_views.claim_documents_view, name="claim_documents"),
    path("<int:pk>/extend/", claim_views.claim_extend_view, name="claim_extend"),
    path("<int:pk>/notice.pdf", claim_views.claim_notice_pdf, name="claim_notice"),
]
