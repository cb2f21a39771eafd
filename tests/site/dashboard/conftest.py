"""Dashboard test fixtures: tiny torch translators registered for the session's worker."""

from __future__ import annotations

import pytest

from ..tiny_engines import saved_tiny_engines


@pytest.fixture(scope="module")
def tiny_bench_engines():
    """A tiny AR transformer and a tiny CMLM for the synthetic en→de task (fixture test set en-de/synth), briefly
    trained, so a benchmark run has AR and NAR rows and an iteration sweep."""
    yield from saved_tiny_engines({"bench-ar-en-de": "transformer", "bench-cmlm-en-de": "cmlm"}, steps=150)
