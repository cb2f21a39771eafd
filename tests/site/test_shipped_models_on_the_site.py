"""The site translates en→de and en→pt with each shipped model: a job through Redis and the real Celery worker, the
shipped checkpoint loaded by the worker from the registry (linked into the test session's checkpoint folder)."""

from __future__ import annotations

import pytest

from nmt_site.jobs import services
from nmt_site.jobs.selectors import Owner
from tests.translator.test_shipped_checkpoints import FAMILIES, HELD_OUT, SHIPPED_DIR

from .conftest import wait_for_state
from .tiny_engines import CHECKPOINTS

pytestmark = pytest.mark.worker


SHIPPED_MODELS = [(pair, name) for pair, family in sorted(FAMILIES.items()) for name in family]


@pytest.fixture(scope="module")
def shipped_models_linked():
    CHECKPOINTS.mkdir(parents=True, exist_ok=True)
    links = []
    for _, name in SHIPPED_MODELS:
        link = CHECKPOINTS / name
        if not link.exists():
            link.symlink_to(SHIPPED_DIR / name, target_is_directory=True)
            links.append(link)
    yield SHIPPED_MODELS
    for link in links:
        link.unlink()


@pytest.mark.parametrize("pair,name", SHIPPED_MODELS)
def test_each_shipped_model_translates_through_the_queue(
    pair, name, shipped_models_linked, celery_worker_process, session_key
):
    held_out = HELD_OUT[pair]
    source_lang, target_lang = pair.split("-")
    text = "\n".join(source for source, _ in held_out)
    job = services.create_job(
        owner=Owner(session_key=session_key),
        text=text,
        source_lang=source_lang,
        target_lang=target_lang,
        translator=name,
    )
    job = wait_for_state(job.id, {"done", "failed"}, timeout=120, worker=celery_worker_process)
    assert job.state == "done", job.error
    lines = job.output_text.split("\n")
    assert len(lines) == len(held_out)
    words = [w for _, expected in held_out for w in expected]
    found = [
        w for (_, expected), line in zip(held_out, lines, strict=False) for w in expected if w.lower() in line.lower()
    ]
    # Every model gets the domain words of held-out help sentences; the weakest students may miss a few.
    assert len(found) >= 0.75 * len(words), f"{name}: {lines}"
