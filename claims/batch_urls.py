from django.urls import path

from . import batch_views as views

urlpatterns = [
    path("", views.batch_list, name="hospital_batch_list"),
    path("upload/", views.batch_upload, name="hospital_batch_upload"),
    path("<int:pk>/", views.batch_detail, name="hospital_batch_detail"),
    path("<int:pk>/progress.json", views.batch_progress_json, name="hospital_batch_progress"),
    path("<int:pk>/rejected.csv", views.batch_rejected, name="hospital_batch_rejected"),
    path("<int:pk>/confirm/", views.batch_confirm, name="hospital_batch_confirm"),
    path("<int:pk>/deductions/", views.deduction_add, name="hospital_batch_deduction_add"),
    path("<int:pk>/deductions/<int:deduction_pk>/confirm/", views.deduction_confirm, name="hospital_batch_deduction_confirm"),
    path("<int:pk>/recoveries/", views.recovery_add, name="hospital_batch_recovery_add"),
    path("<int:pk>/retry/", views.batch_retry, name="hospital_batch_retry"),
    path("<int:pk>/post/", views.batch_post, name="hospital_batch_post"),
]
