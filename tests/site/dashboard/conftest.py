"""Dashboard test fixtures: tiny torch translators registered for the session's worker."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
# Set while collecting, before the session's worker starts, so the worker lists the engines saved below.
# Same directory formula as tests/site/live/conftest.py: whichever is collected first, both agree.
CHECKPOINTS = Path(os.environ.setdefault("NMT_CHECKPOINTS_DIR", str(ROOT / "var" / f"test-checkpoints-{os.getpid()}")))


@pytest.fixture(scope="module")
def tiny_bench_engines():
    """A tiny AR transformer and a tiny CMLM for the synthetic en→de task (fixture test set en-de/synth), briefly
    trained: real torch models with real mask-predict iterations, so a run has AR and NAR rows and a sweep."""
    import torch

    from tests.translator.test_models_synthetic import TINY, build, train, word_tokenizer
    from translator.checkpoint import save_folder
    from translator.models.ar_transformer import ARTransformer
    from translator.models.cmlm import CMLM

    torch.set_num_threads(1)
    names = {"bench-ar-en-de": ARTransformer, "bench-cmlm-en-de": CMLM}
    for name, cls in names.items():
        model = build(cls, TINY)
        train(model, 150)
        save_folder(CHECKPOINTS / name, model, word_tokenizer(),
                    {"name": name, "source_lang": "en", "target_lang": "de"}, half=False)
    yield list(names)
    for name in names:
        shutil.rmtree(CHECKPOINTS / name, ignore_errors=True)
    try:
        CHECKPOINTS.rmdir()  # the per-run folder, once empty (other modules may still hold engines in it)
    except OSError:
        pass
