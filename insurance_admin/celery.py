import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "insurance_admin.settings.base")

app = Celery("insurance_admin")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
