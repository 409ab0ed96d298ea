from django.urls import path, register_converter

from . import views


class ReportFormatConverter:
    regex = "pdf|xlsx"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ReportFormatConverter, "reportfmt")

app_name = "reporting"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("runs/<int:pk>/file.<reportfmt:fmt>", views.run_file, name="run_file"),
    path("runs/<int:pk>/regenerate/", views.run_regenerate, name="run_regenerate"),
]
