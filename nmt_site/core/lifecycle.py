"""The one lifecycle of queued work (text jobs, document jobs, benchmark runs): submit, claim, heartbeat, finish,
fail, cancel, recover, publish, wait.

Every move is a conditional UPDATE (``.filter(state=..., attempts=...).update(...)``): whoever loses a race, or a
message the broker delivers twice, changes nothing. The database row is the truth; a broker message is only a
wake-up call for it, so a lost message loses nothing:

- **Submit** stores the row (``queued``, with its ``queue``) and sends its id after commit. A broker that is down
  leaves the row queued with ``enqueued_at`` empty, the request is answered as accepted, and the sweeper sends it
  once the broker answers again.
- **Claim** takes a queued row, or a running row whose attempt is dead (its heartbeat is stale, or its process
  on this node is gone); a live attempt is never taken over, so a duplicate message is dropped. After
  ``NMT_MAX_ATTEMPTS`` claims the work fails with the reason; a kind that cannot resume (benchmark runs) fails
  instead of being claimed again.
- **Heartbeat**: the running process refreshes ``heartbeat_at`` every ``NMT_HEARTBEAT_SECONDS`` from a thread.
- **Recover** (the sweeper, every ``NMT_SWEEP_SECONDS`` in each worker's main process, and at once when a pool
  process dies): dead running rows go back to ``queued`` and are sent at the front of the queue (priority 0,
  new work goes with ``NORMAL_PRIORITY``); queued rows that no broker message covers are sent again.
- **Publish** pushes the state to the kind's Channels group(s) and pings a Redis pub/sub channel that ``wait``
  listens on (a waiting request re-reads the row when woken, and once a second in any case).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from nmt_site.celery import app as celery_app

from .models import ACTIVE_STATES, FINISHED_STATES, QueuedWork, WorkState

log = logging.getLogger(__name__)

# Redis priorities (kombu keeps one list per step and pops the lowest number first): new work goes in at
# NORMAL_PRIORITY, work taken back from a dead worker or a lost message at FRONT_PRIORITY, so it never waits
# behind the backlog that queued up after it.
FRONT_PRIORITY = 0
NORMAL_PRIORITY = 5
# A broker that is down answers a send within about a second: the request is not held up longer.
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# A waiting request re-reads the row at least this often (if a pub/sub ping is lost, or Redis is down).
WAIT_FALLBACK_SECONDS = 1.0
UUID_RE = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class Kind:
    """One kind of queued work: its rows, its Celery task and how its watchers are told."""

    label: str  # "job", "document", "benchmark run": in messages and pub/sub channel names
    model: type[QueuedWork]
    task: str  # the Celery task name (the task takes the id as its one argument)
    queue: Callable[[], str]  # the queue new work of this kind goes to (read from settings at call time)
    notify: Callable[[QueuedWork], None]  # push the row's public state to the pages watching it
    # False: a dead attempt is failed, never resumed (half-measured timings are not comparable).
    resumable: bool = True
    doing: str = "running"  # "translating this document": for the reasons shown to the user
    extra_dead: dict = field(default_factory=dict)  # fields reset when a dead attempt is requeued


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Each app registers its kind at import of its services; the worker imports them all."""
    _KINDS[kind.task] = kind
    return kind


def kinds() -> list[Kind]:
    return list(_KINDS.values())


def kind_for_task(task_name: str | None) -> Kind | None:
    return _KINDS.get(task_name or "")


# --- who is running it -----------------------------------------------------------------------------------------


def worker_name(hostname: str | None = None) -> str:
    """ "<celery node>/<pid>" of this process: what a running row's ``worker`` holds."""
    import socket

    return f"{hostname or socket.gethostname()}/{os.getpid()}"


def _split_worker(worker: str) -> tuple[str, int | None]:
    node, _, pid = worker.rpartition("/")
    return node, int(pid) if pid.isdigit() else None


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: gone for our purposes
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def stale_before():
    return timezone.now() - timedelta(seconds=settings.NMT_STALE_SECONDS)


def death_of(obj: QueuedWork, node: str | None = None) -> str | None:
    """Why a running row's attempt is over (None: it may still be at work): its heartbeat is stale, or it ran
    on ``node`` (this machine's worker) in a process that is gone. A row between two deliveries (no worker) is
    judged by its heartbeat."""
    if obj.state != WorkState.RUNNING:
        return None
    beat = obj.heartbeat_at or obj.started_at
    if beat is None:
        return "no heartbeat"
    if beat < stale_before():
        return f"heartbeat {(timezone.now() - beat).total_seconds():.0f} s old"
    worker_node, pid = _split_worker(obj.worker)
    if node and pid and worker_node == node and not process_alive(pid):
        return "its process is gone"
    return None


def is_dead(obj: QueuedWork, node: str | None = None) -> bool:
    return death_of(obj, node) is not None


def _alive_q() -> Q:
    """Running rows whose heartbeat is fresh (they may still be at work)."""
    cutoff = stale_before()
    return Q(heartbeat_at__gte=cutoff) | Q(heartbeat_at__isnull=True, started_at__gte=cutoff)


def live_running(kind: Kind):
    return kind.model.objects.filter(_alive_q(), state=WorkState.RUNNING)


# --- publishing --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


def channel_name(kind: Kind, pk) -> str:
    return f"nmt:work:{kind.task}:{pk}"


def publish(kind: Kind, obj: QueuedWork | None) -> None:
    """Tell the row's watchers (pages over Channels, waiting requests over pub/sub). Never fails the caller."""
    if obj is None:
        return
    kind.notify(obj)
    try:
        _redis(settings.REDIS_URL).publish(channel_name(kind, obj.pk), obj.state)
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # Redis down: the work goes on; waiters re-read the row anyway
        log.debug("could not ping waiters of %s %s", kind.label, obj.pk, exc_info=True)


def _reload(kind: Kind, pk) -> QueuedWork | None:
    return kind.model.objects.filter(pk=pk).first()


def _publish_pk(kind: Kind, pk) -> QueuedWork | None:
    """Reload the row and publish it once it is committed (at once outside a transaction): a watcher must
    never be told a state it cannot read back yet."""
    obj = _reload(kind, pk)
    transaction.on_commit(lambda: publish(kind, obj))
    return obj


# --- submitting (web process) ------------------------------------------------------------------------------


def submit(kind: Kind, obj: QueuedWork, **task_kwargs) -> None:
    """Inside the transaction that created ``obj`` (created with ``queue=kind.queue()``): send it after commit."""
    transaction.on_commit(lambda: enqueue(kind, obj.pk, **task_kwargs))


def enqueue(kind: Kind, pk, *, priority: int = NORMAL_PRIORITY, queue: str | None = None, **task_kwargs) -> bool:
    """Send the work's id to its queue; False (logged) when the broker does not take it: the row stays queued
    and the sweeper sends it once the broker is back, so this never fails the caller."""
    queue = queue or kind.queue()
    try:
        _send(kind, pk, queue, priority, task_kwargs)
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:  # kombu OperationalError, redis errors, timeouts
        log.warning("broker did not take %s %s (%s); the sweeper will send it", kind.label, pk, exc)
        return False
    kind.model.objects.filter(pk=pk).update(queue=queue, enqueued_at=timezone.now())
    return True


def _send(kind: Kind, pk, queue: str, priority: int, task_kwargs: dict) -> None:
    options = dict(
        args=[str(pk)], kwargs=task_kwargs or None, queue=queue, priority=priority, retry_policy=PUBLISH_RETRY
    )
    url = settings.CELERY_BROKER_URL
    if url == celery_app.conf.broker_url:
        celery_app.send_task(kind.task, **options)
    else:  # the settings name another broker than the app was configured with (a tool or test aiming elsewhere)
        with celery_app.connection_for_write(url) as conn:
            celery_app.send_task(kind.task, connection=conn, **options)


# --- claiming and running (worker process) -----------------------------------------------------------------


@dataclass
class Claim:
    obj: QueuedWork | None
    attempt: int | None = None
    outcome: str = "claimed"  # claimed | missing | finished | taken | failed | busy | lost

    @property
    def ok(self) -> bool:
        return self.outcome == "claimed"


def claim(
    kind: Kind, pk, worker: str, *, fields: dict | None = None, guard: Callable[[QueuedWork], bool] | None = None
) -> Claim:
    """queued → running (or a dead attempt's running → running), bumping ``attempts``.

    ``guard(obj)`` runs inside the claiming transaction; False answers "busy" (the caller retries later).
    """
    obj = _reload(kind, pk)
    if obj is None:
        log.warning("%s %s does not exist (deleted, or another database): nothing to do", kind.label, pk)
        return Claim(None, outcome="missing")
    if obj.state in FINISHED_STATES:
        log.info("%s %s is already %s: delivery ignored", kind.label, pk, obj.state)
        return Claim(obj, outcome="finished")
    node = _split_worker(worker)[0]
    if obj.state == WorkState.RUNNING:
        if not is_dead(obj, node):
            log.info("%s %s is running in %s: duplicate delivery ignored", kind.label, pk, obj.worker)
            return Claim(obj, outcome="taken")
        if not kind.resumable:
            return Claim(fail(kind, pk, None, _dead_reason(kind, obj)) or _reload(kind, pk), outcome="failed")
    if obj.attempts >= settings.NMT_MAX_ATTEMPTS:
        return Claim(fail(kind, pk, None, _exhausted_reason(kind, obj.attempts)) or _reload(kind, pk), outcome="failed")
    with transaction.atomic():
        if guard is not None and not guard(obj):
            return Claim(obj, outcome="busy")
        # The database's clock, read when the row is written: a wait for the write lock (SQLite under load)
        # must not make a fresh claim look stale.
        claimed = kind.model.objects.filter(pk=pk, state=obj.state, attempts=obj.attempts).update(
            state=WorkState.RUNNING,
            attempts=obj.attempts + 1,
            started_at=timezone.now(),
            heartbeat_at=Now(),
            worker=worker,
            error="",
            **(fields or {}),
        )
    if not claimed:
        log.info("%s %s changed under us (cancelled or claimed elsewhere): skipping", kind.label, pk)
        return Claim(_reload(kind, pk), outcome="lost")
    return Claim(_publish_pk(kind, pk), attempt=obj.attempts + 1)


def claim_many(kind: Kind, pks, worker: str) -> list[Claim]:
    """queued → running for several rows at once (the rest of a batch), in one conditional UPDATE: only rows still
    queued and with attempts left are taken (any other is left to its own delivery, which reports or fails it).
    Each taken row is published like a single claim; the claims come in the order of ``pks``."""
    if not pks:
        return []
    stamp = timezone.now()  # marks this claim's rows: the read back must not pick up anything else
    with transaction.atomic():
        kind.model.objects.filter(pk__in=pks, state=WorkState.QUEUED, attempts__lt=settings.NMT_MAX_ATTEMPTS).update(
            state=WorkState.RUNNING,
            attempts=F("attempts") + 1,
            started_at=stamp,
            heartbeat_at=Now(),
            worker=worker,
            error="",
        )
    order = {str(pk): i for i, pk in enumerate(pks)}
    claimed = sorted(
        kind.model.objects.filter(pk__in=pks, state=WorkState.RUNNING, worker=worker, started_at=stamp),
        key=lambda obj: order[str(obj.pk)],
    )
    for obj in claimed:
        publish(kind, obj)
    return [Claim(obj, attempt=obj.attempts) for obj in claimed]


def resume_delivery(kind: Kind, pk, attempt: int, worker: str) -> QueuedWork | None:
    """The next delivery of the same attempt (a time slice handed over with ``hand_over``): no new claim.
    None when the row is not waiting for it (cancelled, taken back, or already resumed by a duplicate)."""
    if kind.model.objects.filter(pk=pk, state=WorkState.RUNNING, attempts=attempt, worker="").update(
        worker=worker, heartbeat_at=Now()
    ):
        return _reload(kind, pk)
    return None


def hand_over(kind: Kind, pk, attempt: int, **task_kwargs) -> bool:
    """End this delivery of a running attempt and queue the next one at the front: the row stays running with
    no worker; the sweeper treats it like a queued row (sent again if no message covers it)."""
    if not kind.model.objects.filter(pk=pk, state=WorkState.RUNNING, attempts=attempt).update(
        worker="", heartbeat_at=Now()
    ):
        return False
    enqueue(kind, pk, priority=FRONT_PRIORITY, **task_kwargs)
    return True


def still_ours(kind: Kind, pk, attempt: int, **updates) -> bool:
    """Store progress of a running attempt (and beat its heart); False once the work is no longer ours."""
    return bool(
        kind.model.objects.filter(pk=pk, state=WorkState.RUNNING, attempts=attempt).update(
            heartbeat_at=Now(), **updates
        )
    )


def beat_many(kind: Kind, attempts: dict) -> int:
    """Beat the hearts of several running attempts ({pk: attempt}) in one UPDATE (a batch of jobs); how many are
    still ours."""
    if not attempts:
        return 0
    mine = Q()
    for pk, attempt in attempts.items():
        mine |= Q(pk=pk, attempts=attempt)
    return kind.model.objects.filter(mine, state=WorkState.RUNNING).update(heartbeat_at=Now())


def finish(kind: Kind, pk, attempt: int, **fields) -> QueuedWork | None:
    """running → done for this attempt only; None when it stopped being ours (cancelled, taken over)."""
    done = kind.model.objects.filter(pk=pk, state=WorkState.RUNNING, attempts=attempt).update(
        state=WorkState.DONE, finished_at=timezone.now(), **fields
    )
    return _publish_pk(kind, pk) if done else None


def finish_many(kind: Kind, results: list[tuple]) -> set:
    """running → done for several attempts ([(pk, attempt, fields)], a batch) in one transaction; each finished row is
    published once it is committed. The pks that were still ours (a cancelled one stays cancelled)."""
    done = set()
    with transaction.atomic():
        now = timezone.now()
        for pk, attempt, fields in results:
            if kind.model.objects.filter(pk=pk, state=WorkState.RUNNING, attempts=attempt).update(
                state=WorkState.DONE, finished_at=now, **fields
            ):
                done.add(pk)
    for obj in kind.model.objects.filter(pk__in=done):
        publish(kind, obj)
    return done


def fail(kind: Kind, pk, attempt: int | None, reason: str) -> QueuedWork | None:
    """→ failed with the reason: this running attempt only, or (attempt None) whatever is still active."""
    qs = kind.model.objects.filter(pk=pk)
    qs = qs.filter(state=WorkState.RUNNING, attempts=attempt) if attempt else qs.filter(state__in=ACTIVE_STATES)
    if qs.update(state=WorkState.FAILED, error=reason, finished_at=timezone.now()):
        return _publish_pk(kind, pk)
    return None


def cancel(kind: Kind, pk, reason: str = "Cancelled.", **fields) -> QueuedWork | None:
    """queued/running → cancelled (a running attempt stops at its next conditional update). The row."""
    changed = kind.model.objects.filter(pk=pk, state__in=ACTIVE_STATES).update(
        state=WorkState.CANCELLED, finished_at=timezone.now(), error=reason, **fields
    )
    return _publish_pk(kind, pk) if changed else _reload(kind, pk)


class heartbeat:
    """``with heartbeat(kind, pk, attempt):`` refresh the row's heartbeat from a thread while the block runs
    (a long engine call or a measuring phase never looks dead while its process lives).
    ``heartbeat.many(kind, {pk: attempt, ...})`` does it for every row of a batch at once."""

    def __init__(self, kind: Kind, pk, attempt: int, interval: float | None = None):
        self.kind, self.attempts = kind, {pk: attempt}
        self.interval = settings.NMT_HEARTBEAT_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{pk}", daemon=True)

    @classmethod
    def many(cls, kind: Kind, attempts: dict, interval: float | None = None) -> heartbeat:
        (pk, attempt), *_ = attempts.items()
        beat = cls(kind, pk, attempt, interval)
        beat.attempts = dict(attempts)
        return beat

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    if not beat_many(self.kind, self.attempts):
                        return  # cancelled or taken over: the work loop notices at its next update
                except Exception:
                    log.warning("heartbeat of %s %s failed", self.kind.label, self.pk, exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=1)
        return False


# --- recovering (worker main process: the sweeper, and a pool process that died) ---------------------------


def _exhausted_reason(kind: Kind, attempts: int) -> str:
    return (
        f"Gave up after {attempts} attempts: the worker {kind.doing} stopped each time "
        "(crash, out of memory or time limit)."
    )


def _dead_reason(kind: Kind, obj: QueuedWork) -> str:
    if kind.resumable:
        return f"The worker {kind.doing} died, {obj.attempts} times (crash, out of memory or restart)."
    return (
        f"The worker process {kind.doing} died (crash or restart); a half-measured run is not comparable "
        "and is not resumed: start it again."
    )


def recover_dead(kind: Kind, obj: QueuedWork) -> str | None:
    """A dead running attempt: requeue it at the front, or fail it (out of attempts, or not resumable).
    Conditional on the row being exactly as read; returns "requeued"/"failed", or None when it moved on."""
    if not kind.resumable or obj.attempts >= settings.NMT_MAX_ATTEMPTS:
        return "failed" if fail(kind, obj.pk, obj.attempts, _dead_reason(kind, obj)) else None
    requeued = kind.model.objects.filter(
        pk=obj.pk, state=WorkState.RUNNING, attempts=obj.attempts, worker=obj.worker
    ).update(
        state=WorkState.QUEUED,
        error=f"The worker {kind.doing} died; it was queued again.",
        worker="",
        heartbeat_at=None,
        **kind.extra_dead,
    )
    if not requeued:
        return None
    _publish_pk(kind, obj.pk)
    enqueue(kind, obj.pk, priority=FRONT_PRIORITY, queue=obj.queue or None)
    return "requeued"


def on_task_lost(task_name: str, pk, node: str | None) -> str | None:
    """The worker's main process saw the pool process running this task die (SIGKILL, OOM, hard limit):
    take the work back at once instead of waiting for its heartbeat to go stale, with everything else that
    process held (the other jobs of its batch)."""
    kind = kind_for_task(task_name)
    if kind is None:
        return None
    obj = _reload(kind, pk)
    if obj is None:
        return None
    others = recover_process(obj.worker, node, but=obj.pk) if obj.worker else 0
    outcome = None
    if obj.state == WorkState.QUEUED:  # died before claiming it: only the message was lost
        enqueue(kind, obj.pk, priority=FRONT_PRIORITY, queue=obj.queue or None)
        outcome = "resent"
    elif is_dead(obj, node):
        outcome = recover_dead(kind, obj)
    if others:
        log.warning("%d more rows held by the dead process %s were taken back", others, obj.worker)
    return outcome


def recover_process(worker: str, node: str | None, but=None) -> int:
    """Take back every running row, of any kind, that the process ``worker`` ("<node>/<pid>") held and that is
    dead (a batch claims several rows in one process). How many were requeued or failed."""
    count = 0
    for kind in kinds():
        for obj in kind.model.objects.filter(state=WorkState.RUNNING, worker=worker).exclude(pk=but):
            if is_dead(obj, node) and recover_dead(kind, obj):
                count += 1
    return count


def queue_keys(queue: str) -> list[str]:
    """The Redis lists of one queue: one per priority step (kombu's layout)."""
    sep = "\x06\x16"
    return [queue] + [f"{queue}{sep}{step}" for step in settings.NMT_PRIORITY_STEPS if step]


def ids_in_broker(queues) -> set[str] | None:
    """Ids carried by messages waiting in ``queues``, or delivered to a worker within the last
    ``NMT_STALE_SECONDS`` and not acknowledged yet (kombu's Redis layout: one list per priority step, the
    ``unacked`` hash and its ``unacked_index`` of delivery times). A message a worker has held unacknowledged
    for longer while its work is still queued belongs to a worker that died before claiming it: it does not
    count. None when the broker cannot be read."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    client = _redis(url)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for key in queue_keys(queue):
                pipe.lrange(key, 0, -1)
        pipe.zrangebyscore("unacked_index", time.time() - settings.NMT_STALE_SECONDS, "+inf")
        *lists, recent_tags = pipe.execute()
        raws = [raw for items in lists for raw in items]
        if recent_tags:
            raws.extend(raw for raw in client.hmget("unacked", recent_tags) if raw)
        return {m.decode() for raw in raws for m in UUID_RE.findall(raw)}
    except redis.RedisError as exc:
        log.info("cannot read the broker's queues (%s); queued work is checked next round", exc)
        return None


def withdraw(queue: str, pks, scan: int = 1000) -> int:
    """Take the waiting broker messages for ``pks`` off ``queue`` (kombu's Redis layout, as in ``ids_in_broker``):
    work a batch has claimed needs no wake-up call any more, and delivering each one only to find its job running
    or done costs the worker as much CPU as a small translation. Only the oldest ``scan`` messages of each list are
    looked at (a batch takes the oldest work); one left behind is delivered and does nothing. Should the claiming
    process die, its rows are taken back and sent again by ``recover_process`` and the sweeper, as any dead
    attempt's. How many messages were removed."""
    wanted = {str(pk).encode() for pk in pks}
    url = settings.CELERY_BROKER_URL
    if not wanted or not url.startswith(("redis://", "rediss://", "unix://")):
        return 0
    client = _redis(url)
    try:
        keys = queue_keys(queue)
        pipe = client.pipeline(transaction=False)
        for key, raws in zip(keys, _lists(client, keys, scan), strict=True):
            for raw in raws:
                if wanted & set(UUID_RE.findall(raw)):
                    pipe.lrem(key, 0, raw)
        return sum(pipe.execute())
    except redis.RedisError as exc:
        log.info("could not withdraw claimed messages (%s): they will be delivered and do nothing", exc)
        return 0


def _lists(client, keys: list[str], scan: int) -> list[list[bytes]]:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.lrange(key, -scan, -1)  # kombu pushes on the left and pops on the right: the oldest are last
    return pipe.execute()


def sweep(queues, node: str | None = None) -> dict[str, int]:
    """One round of the sweeper for work destined to ``queues``: dead running attempts are requeued (or
    failed), queued work that no broker message covers is sent again. Returns counts of what it did."""
    queues = list(queues)
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    grace = timezone.now() - timedelta(seconds=settings.NMT_SWEEP_GRACE_SECONDS)
    in_broker: set[str] | None = None
    broker_read = False

    def covered(pk) -> bool | None:
        nonlocal in_broker, broker_read
        if not broker_read:
            in_broker, broker_read = ids_in_broker(queues), True
        return None if in_broker is None else str(pk) in in_broker

    for kind in kinds():
        running = kind.model.objects.filter(state=WorkState.RUNNING, queue__in=queues)
        suspects = running.exclude(_alive_q())
        if node:
            suspects = suspects | running.filter(worker__startswith=f"{node}/")
        for obj in suspects.distinct():
            death = death_of(obj, node)
            if death is None:
                continue
            if not obj.worker and covered(obj.pk) is not False:
                continue  # between two deliveries and its next message is waiting (or we cannot tell)
            outcome = recover_dead(kind, obj)
            if outcome:
                counts[outcome] += 1
                log.warning("%s %s left running by %s (%s): %s", kind.label, obj.pk, obj.worker or "-", death, outcome)
        waiting = kind.model.objects.filter(state=WorkState.QUEUED, queue__in=queues).filter(
            Q(enqueued_at__lt=grace) | Q(enqueued_at__isnull=True, queued_at__lt=grace)
        )
        for pk, queue in waiting.values_list("pk", "queue"):
            if covered(pk) is None:
                break  # the broker is down: nothing can be sent now anyway
            if not covered(pk) and enqueue(kind, pk, priority=FRONT_PRIORITY, queue=queue):
                counts["resent"] += 1
                log.warning("%s %s was queued with no message on the broker: sent again", kind.label, pk)
    return counts


class Sweeper:
    """The worker-side timer: ``sweep`` at start and every ``NMT_SWEEP_SECONDS`` in a daemon thread of the
    worker's main process (each worker runs one; rounds are idempotent, so several workers do not conflict)."""

    def __init__(self, queues, node: str, interval: float | None = None):
        self.queues, self.node = list(queues), node
        self.interval = settings.NMT_SWEEP_SECONDS if interval is None else interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nmt-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while True:
            try:
                sweep(self.queues, self.node)
            except Exception:
                log.warning("sweep failed; trying again in %s s", self.interval, exc_info=True)
                connections.close_all()
            if self._stop.wait(self.interval):
                break
        connections.close_all()


# --- waiting (web process) ---------------------------------------------------------------------------------


class WaitTimeout(Exception):
    """The work did not finish in time; it was cancelled (nobody waits for its result any more)."""

    def __init__(self, obj):
        super().__init__(f"{obj.pk} did not finish in time")
        self.obj = obj


def wait(kind: Kind, pk, timeout: float, *, cancel_reason: str = "The request timed out.") -> QueuedWork:
    """Block until the work is finished, woken by its pub/sub pings (and re-reading the row at least once a
    second); past ``timeout`` cancel it and raise WaitTimeout."""
    deadline = time.monotonic() + timeout
    pubsub = None
    try:
        pubsub = _redis(settings.REDIS_URL).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel_name(kind, pk))  # before the first read: no finish can slip in between
    except redis.RedisError:
        pubsub = None
    try:
        while True:
            obj = kind.model.objects.get(pk=pk)
            if obj.state in FINISHED_STATES:
                return obj
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                obj = cancel(kind, pk, cancel_reason)
                if obj.state in FINISHED_STATES and obj.state != WorkState.CANCELLED:
                    return obj  # it finished in the last moment
                raise WaitTimeout(obj)
            step = min(remaining, WAIT_FALLBACK_SECONDS)
            if pubsub is not None:
                try:
                    pubsub.get_message(timeout=step)
                    continue
                except redis.RedisError:
                    pubsub = None
            time.sleep(min(step, 0.25))
    finally:
        if pubsub is not None:
            try:
                pubsub.close()
            except redis.RedisError:
                pass


def as_uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
