"""Thread discipline (nmt_site/core/threads.py): every worker process sets torch's intra-op threads explicitly, from
NMT_TORCH_THREADS or the cores it may use divided among the processes that share them."""

from __future__ import annotations

import os

import pytest
import torch

from nmt_site.core.threads import POOL_PROCESSES_ENV, apply_torch_threads, torch_threads, usable_cores


def test_the_default_divides_the_usable_cores_among_the_pool_and_one_more_process(settings, monkeypatch):
    settings.NMT_TORCH_THREADS = 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert usable_cores() == 8
    assert torch_threads(pool_processes=1) == 4  # one translating process + the benchmark worker beside it
    assert torch_threads(pool_processes=3) == 2
    assert torch_threads(pool_processes=16) == 1, "never fewer than one"
    monkeypatch.setenv(POOL_PROCESSES_ENV, "7")  # what the worker's main process tells its pool
    assert torch_threads() == 1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1})  # taskset -c 1
    assert torch_threads(pool_processes=1) == 1


def test_a_configured_count_wins_and_is_applied(settings):
    settings.NMT_TORCH_THREADS = 3
    before = torch.get_num_threads()
    try:
        assert torch_threads(pool_processes=8) == 3
        assert apply_torch_threads() == 3 and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


@pytest.mark.worker
def test_the_worker_pool_process_sets_its_threads(celery_worker_process):
    """The suite's real worker logs the count its pool process set (before warming any engine)."""
    log = celery_worker_process.log_tail(1_000_000)
    assert "torch uses" in log and "intra-op thread(s) in process" in log
