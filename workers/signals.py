"""Worker lifecycle hooks: warm engines in every pool process, recover orphaned jobs at start."""

import logging

from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure, worker_process_init, worker_ready
from django.conf import settings

from nmt_site.jobs import services
from translator.engine import EngineError
from translator.registry import list_engines, load_engine

log = logging.getLogger(__name__)


@worker_process_init.connect
def warm_engines(**_):
    """Load and warm the configured engines once per pool process, so the first job pays no load time."""
    available = {info.name for info in list_engines()}
    for name in settings.NMT_WARM_ENGINES:
        if name not in available:
            log.warning("engine %s is not installed; not warming it", name)
            continue
        try:
            load_engine(name, device=services.engine_device()).warm_up()
            log.info("engine %s loaded and warmed up", name)
        except EngineError as exc:
            log.error("engine %s failed to load: %s", name, exc)


@worker_ready.connect
def recover_orphans(sender=None, **_):
    """A job still `running` under this node's name was left by a process that died: requeue or fail it."""
    from django.db import connections

    hostname = getattr(sender, "hostname", None)
    if not hostname:
        return
    try:
        touched = services.recover_orphaned_jobs(hostname)
    finally:
        connections.close_all()  # the pool's processes must not share this connection
    if touched:
        log.warning("recovered %d job(s) left running by an earlier process of %s: %s", len(touched), hostname, touched)


@task_failure.connect
def fail_job_when_task_dies(sender=None, task_id=None, exception=None, args=None, **_):
    """The task ended without run_job finishing the job, and the message will not come back.

    Fires for the hard time limit (billiard kills the pool process; Celery acks the message) and for errors
    raised outside run_job's own handling. Not for a lost worker whose message is requeued: that one reruns.
    """
    if getattr(sender, "name", None) != services.TRANSLATE_TASK or not args:
        return
    if isinstance(exception, TimeLimitExceeded):
        limit = exception.args[0] if exception.args else settings.NMT_TASK_HARD_LIMIT
        reason = f"The job took longer than the {limit} s hard time limit and was stopped."
    else:
        reason = f"The worker failed while running this job ({type(exception).__name__})."
    try:
        services.fail_job(args[0], reason)
    except Exception:  # the database may be what failed; the startup sweep is the last resort
        log.exception("could not mark job %s failed", args[0])
