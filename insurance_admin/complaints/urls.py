from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_register_view, name="register"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/assign/", views.complaint_assign_view, name="assign"),
    path("<int:pk>/transition/", views.complaint_transition_view, name="transition"),
    path("<int:pk>/reopen/", views.complaint_reopen_view, name="reopen"),
    path("defaults/", views.complaint_defaults, name="defaults"),
    path("defaults/<slug:code>/", views.complaint_defaults_edit, name="defaults_edit"),
]
