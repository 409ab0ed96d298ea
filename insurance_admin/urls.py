from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from claims import member_views
from claims import views as claim_views
from finance import renewal_views
from insurance_admin import workbench
from insurance_admin.core import views as core_views
from programs import audit_views as program_audit_views
from programs import views as program_views

urlpatterns = [
    path("", workbench.home, name="home"),
    path("persons/<int:pk>/", program_views.person_detail, name="person_detail"),
    path("persons/<int:person_pk>/trial/<slug:contract_code>/", claim_views.trial, name="trial"),
    path("persons/<int:person_pk>/services/<slug:contract_code>/", member_views.member_services, name="member_services"),
    path("claims/hospital-batches/", include("claims.batch_urls")),
    path("claims/<int:pk>/slip.pdf", claim_views.slip_pdf, name="claim_slip"),
    path("claims/", include("claims.urls")),
    path("finance/", include("finance.urls")),
    path("registry/imports/", program_views.import_batch_list, name="import_batch_list"),
    path("registry/imports/<int:pk>/", program_views.import_batch_detail, name="import_batch_detail"),
    path("registry/imports/<int:pk>/progress.json", program_views.import_batch_progress, name="import_batch_progress"),
    path("registry/imports/<int:pk>/confirm/", program_views.import_batch_confirm, name="import_batch_confirm"),
    path("registry/imports/<int:pk>/retry/", program_views.import_batch_retry, name="import_batch_retry"),
    path("registry/imports/<int:pk>/rejected.csv", program_views.import_batch_rejected, name="import_batch_rejected"),
    path("contracts/<slug:code>/headcount/", program_views.contract_headcount, name="contract_headcount"),
    path("contracts/<slug:code>/renew/", renewal_views.renewal_start, name="renewal_start"),
    path("contracts/<slug:code>/renewal/", renewal_views.renewal_page, name="renewal"),
    path("contracts/<slug:code>/renewal/validate/", renewal_views.renewal_validate, name="renewal_validate"),
    path("contracts/<slug:code>/renewal/activate/", renewal_views.renewal_activate, name="renewal_activate"),
    path("contracts/<slug:code>/renewal/enrollments/progress/", renewal_views.carry_forward_progress,
         name="carry_forward_progress"),
    path("contracts/<slug:code>/close/", renewal_views.contract_close, name="contract_close"),
    path("supervision/complaints/", include("insurance_admin.complaints.urls")),
    path("supervision/staffing/", include("insurance_admin.staffing.urls")),
    path("supervision/reports/", include("insurance_admin.reporting.urls")),
    path("supervision/assessments/", include("insurance_admin.assessments.urls")),
    path("supervision/", include("insurance_admin.dashboards.urls")),
    path("inbox/", core_views.inbox, name="inbox"),
    path("inbox/<int:pk>/read/", core_views.inbox_read, name="inbox_read"),
    path("deadlines/", core_views.deadline_list, name="deadline_list"),
    path("deadlines/calendar/", core_views.deadline_calendar, name="deadline_calendar"),
    path("deadlines/calendar.ics", core_views.deadline_feed, name="deadline_feed"),
    path("deadlines/feed/", core_views.deadline_feed_rotate, name="deadline_feed_rotate"),
    path("audit/", program_audit_views.audit_log, name="audit_log"),
    path("status/", core_views.system_status, name="system_status"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
