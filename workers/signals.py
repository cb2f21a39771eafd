"""Worker lifecycle hooks: warm engines in every pool process, recover orphaned jobs at start."""
import logging

from celery.signals import worker_process_init, worker_ready
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
