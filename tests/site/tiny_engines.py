"""Tiny torch translators registered through NMT_CHECKPOINTS_DIR, for the suites that need real models
behind the real queue (dashboard, live browser). Importing this module sets NMT_CHECKPOINTS_DIR, so import
it from a conftest: that runs while collecting, before the session's worker starts, and the worker and the
test process then both list these engines (and never whatever real checkpoints are on this machine).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = Path(os.environ.setdefault("NMT_CHECKPOINTS_DIR", str(ROOT / "var" / f"test-checkpoints-{os.getpid()}")))
# CTranslate2 copies the worker makes at first use (translator/ct2.py) go next to them, not into var/ct2.
CT2_DIR = Path(os.environ.setdefault("NMT_CT2_DIR", f"{CHECKPOINTS}-ct2"))


def saved_tiny_engines(architectures: dict[str, str], steps: int):
    """Generator for a fixture: trains one tiny en→de model per name on the synthetic task (real torch
    models, real mask-predict refinement), saves each as a registered engine, yields the names, and
    removes them afterwards."""
    import torch

    from tests.translator.test_models_synthetic import TINY, build, train, word_tokenizer
    from translator.checkpoint import model_class_for, save_folder

    torch.set_num_threads(1)
    for name, architecture in architectures.items():
        model = build(model_class_for(architecture), TINY)
        train(model, steps)
        save_folder(
            CHECKPOINTS / name,
            model,
            word_tokenizer(),
            {"name": name, "source_lang": "en", "target_lang": "de"},
            half=False,
        )
    yield list(architectures)
    for name in architectures:
        shutil.rmtree(CHECKPOINTS / name, ignore_errors=True)
        shutil.rmtree(CT2_DIR / name, ignore_errors=True)  # a worker's CTranslate2 copy of an AR engine
    for folder in (CHECKPOINTS, CT2_DIR):
        try:
            folder.rmdir()  # the per-run folder, once empty (other modules may still hold engines in it)
        except OSError:
            pass
