from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself, on top of every layer: it only loads the Celery app.

    Once per process that starts Django (web, worker, beat, manage.py, tests), so `@shared_task`
    uses the app's configuration. It is not loaded by `insurance_admin/__init__.py` (the usual
    place) because that would start Celery, and with it Django, on importing any module of the
    package, and the pure money helpers (insurance_admin.core.money) must import without either.
    `celery -A insurance_admin` finds the app as `insurance_admin.celery.app`.
    """

    name = "insurance_admin"
    label = "insurance_admin"
    verbose_name = "insurance_admin"

    def ready(self):
        from . import celery  # noqa: F401  (imported for its side effect: the app exists)
