from django.urls import path, register_converter

from . import views


class FormatConverter:
    regex = "pdf|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "fmt")

app_name = "finance"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("contracts/<slug:code>/", views.contract_detail, name="contract"),
    path("contracts/<slug:code>/do/<slug:what>/", views.contract_action, name="contract_action"),
    path("contracts/<slug:code>/clearing.<fmt:fmt>", views.clearing, name="clearing"),
    path("contracts/<slug:code>/report/", views.report, name="report"),
    path("move/<slug:target>/<int:pk>/<slug:action>/", views.movement, name="movement"),
    path("entries/<int:pk>/reverse/", views.entry_reverse, name="entry_reverse"),
]
