"""Celery tasks and worker-process hooks. Thin: the work is in the apps' services and nmt_site.core.lifecycle."""
