"""How many threads torch may use in a site process (NMT_TORCH_THREADS).

torch's default is one intra-op thread per core in *every* process. The site runs several processes that may run
torch at once (each worker's pool processes, the benchmark worker, the web server), so left alone they
oversubscribe the cores and every engine call gets several times slower than the evaluate routine measures it.
Each process therefore sets its thread count explicitly: the configured number, or by default the cores this
process may run on divided by the processes that share them (this worker's pool plus one for the other worker
that ``scripts/run`` and compose start beside it), at least one. Benchmark runs set their own ``threads``.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings

log = logging.getLogger(__name__)

# Set by the worker's main process before it forks its pool (workers.signals): the pool processes share the cores.
POOL_PROCESSES_ENV = "NMT_POOL_PROCESSES"


def usable_cores() -> int:
    """Cores this process may run on (honours taskset and cpusets, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def torch_threads(pool_processes: int | None = None) -> int:
    """The intra-op thread count for a process of a pool of ``pool_processes`` (default: this worker's pool)."""
    configured = settings.NMT_TORCH_THREADS
    if configured > 0:
        return configured
    if pool_processes is None:
        pool_processes = int(os.environ.get(POOL_PROCESSES_ENV) or 1)
    return max(1, usable_cores() // (max(1, pool_processes) + 1))


def apply_torch_threads(pool_processes: int | None = None) -> int:
    """Set torch's intra-op threads for this process; returns the number set."""
    import torch

    threads = torch_threads(pool_processes)
    torch.set_num_threads(threads)
    log.info("torch uses %d intra-op thread(s) in process %d", threads, os.getpid())
    return threads
