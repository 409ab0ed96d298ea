from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "insurance_admin.core"
    label = "core"
    verbose_name = _("Operations")

    def ready(self):
        from .logmasking import attach_to_gunicorn

        attach_to_gunicorn()  # no full ID number in the access log (logmasking.py)
