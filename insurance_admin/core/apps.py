from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "insurance_admin.core"
    label = "core"
    verbose_name = _("Operations")

    def ready(self):
        # imports here, not at the top: the app registry is ready only now
        from .logmasking import attach_to_gunicorn

        attach_to_gunicorn()  # no full ID number in the access log (logmasking.py)

        from django.contrib.auth.signals import user_logged_in

        from .middleware import idle_clock_start

        # the idle clock starts at the login (saved with the login's session write), so the
        # first requests after it need no session write of their own
        user_logged_in.connect(idle_clock_start, dispatch_uid="core.idle_clock_start")

        from celery.signals import task_failure

        from .tasks import record_task_failure

        # failed background tasks, for administrators (system status page, admin)
        task_failure.connect(record_task_failure, dispatch_uid="core.record_task_failure", weak=False)
