"""Celery tasks and worker-process hooks. Thin: the work is in nmt_site.jobs.services."""
