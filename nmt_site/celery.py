"""The Celery app object. Its configuration lives in settings.py under the CELERY_ prefix.

Workers run `celery -A nmt_site worker -Q cpu` (or `-Q gpu`); the tasks live in the `workers` package.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nmt_site.settings")

app = Celery("nmt_site", include=["workers.tasks", "workers.signals", "workers.benchmarks", "workers.document_tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")
