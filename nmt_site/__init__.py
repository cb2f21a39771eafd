"""The Django project of the web studio: settings, URLs, ASGI routing and the Celery app."""

# Importing the Celery app here makes `shared_task` and `celery -A nmt_site` find the same app.
from .celery import app as celery_app

__all__ = ["celery_app"]
