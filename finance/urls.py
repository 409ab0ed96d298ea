from django.urls import path, register_converter

from . import simulation_views, views


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
    path("simulations/", simulation_views.simulation_list, name="simulations"),
    path("simulations/new/<slug:code>/", simulation_views.simulation_new, name="simulation_new"),
    path("simulations/<int:pk>/", simulation_views.simulation_detail, name="simulation"),
    path("simulations/<int:pk>/to-renewal/", simulation_views.simulation_to_renewal, name="simulation_to_renewal"),
    path("simulations/<int:pk>/progress/", simulation_views.simulation_progress, name="simulation_progress"),
    path("simulations/<int:pk>/comparison.<fmt:fmt>", simulation_views.simulation_export, name="simulation_export"),
]
