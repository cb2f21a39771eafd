"""Worker-process hooks: torch's thread count, and the background warm-up of the engines, in every pool process."""

import logging
import os

from celery.signals import worker_init, worker_process_init

from nmt_site.core.engine_status import Warmer, engines_to_warm
from nmt_site.core.lifecycle import worker_name
from nmt_site.core.threads import POOL_PROCESSES_ENV, apply_torch_threads

log = logging.getLogger(__name__)
# Filled in the worker's main process before it forks its pool; the pool processes inherit it.
_worker: dict = {"hostname": None, "queues": []}


@worker_init.connect
def remember_the_worker(sender=None, **_):
    """The pool size divides the cores among the pool processes (core/threads.py); the queues and node name
    label the engine states the pool processes publish."""
    concurrency = getattr(sender, "concurrency", None)
    if isinstance(concurrency, int) and concurrency > 0:
        os.environ[POOL_PROCESSES_ENV] = str(concurrency)
    _worker["hostname"] = getattr(sender, "hostname", None)
    from workers.lifecycle import consumed_queues

    app = getattr(sender, "app", None)
    _worker["queues"] = consumed_queues(app) if app is not None else []


@worker_process_init.connect
def prepare_pool_process(**_):
    """Set torch's threads, then warm the configured engines in a background thread: the process takes jobs at
    once, and a job for an engine still warming waits for it (nmt_site.core.engine_status)."""
    apply_torch_threads()
    names = engines_to_warm()
    if names:
        Warmer(names, _worker["queues"], worker_name(_worker["hostname"])).start()
        log.info("warming %d engine(s) in the background: %s", len(names), ", ".join(names))
