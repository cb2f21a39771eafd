"""The worker hooks of the one lifecycle (nmt_site.core.lifecycle), for every kind of queued work:

- the sweeper: a timer thread in the worker's main process that takes back work whose worker died (stale
  heartbeat, or a process of this node that is gone) and sends queued work that no broker message covers;
- a pool process that dies under a task: its work is taken back at the front of the queue at once;
- the hard time limit or an error outside the services' own handling: the work is failed with the reason.
"""

import logging

from billiard.exceptions import WorkerLostError
from celery.exceptions import TimeLimitExceeded
from celery.signals import task_failure, worker_ready, worker_shutdown
from django.conf import settings

from nmt_site.core import lifecycle

log = logging.getLogger(__name__)
_state: dict = {"node": None, "sweeper": None}


def consumed_queues(app) -> list[str]:
    queues = app.amqp.queues
    return list((queues.consume_from or queues).keys())


@worker_ready.connect
def start_sweeper(sender=None, **_):
    hostname = getattr(sender, "hostname", None)
    if not hostname:
        return
    queues = consumed_queues(sender.app)
    _state["node"] = hostname
    _state["sweeper"] = lifecycle.Sweeper(queues, node=hostname).start()
    log.info("sweeper started for %s on %s (every %s s)", queues, hostname, settings.NMT_SWEEP_SECONDS)


@worker_shutdown.connect
def stop_sweeper(**_):
    if _state["sweeper"] is not None:
        _state["sweeper"].stop()


@task_failure.connect
def work_failed_outside_the_services(sender=None, exception=None, args=None, **_):
    """The task ended without its service finishing the work: the pool process died (SIGKILL, out of memory),
    the hard time limit killed it, or something raised outside the service's own handling."""
    kind = lifecycle.kind_for_task(getattr(sender, "name", None))
    if kind is None or not args:
        return
    try:
        if isinstance(exception, WorkerLostError):
            outcome = lifecycle.on_task_lost(kind.task, args[0], _state["node"])
            log.warning("%s %s: its pool process died (%s): %s", kind.label, args[0], exception, outcome)
        elif isinstance(exception, TimeLimitExceeded):
            limit = exception.args[0] if exception.args else settings.NMT_TASK_HARD_LIMIT
            lifecycle.fail(kind, args[0], None, f"The {kind.label} took longer than the {limit} s hard time limit.")
        else:
            lifecycle.fail(kind, args[0], None, f"The worker failed {kind.doing} ({type(exception).__name__}).")
    except Exception:  # the database or broker may be what failed: the sweeper is the last resort
        log.exception("could not handle the failure of %s %s", kind.label, args[0])
