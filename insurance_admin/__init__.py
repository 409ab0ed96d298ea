"""The project package. Empty on purpose: its pure modules (insurance_admin.core.money) import
without Django or Celery; the Celery app is loaded by insurance_admin/apps.py."""
