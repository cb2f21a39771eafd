"""Continuous diffusion over word embeddings (translator/models/diffusion_lm.py) on the synthetic task of
test_models_synthetic. Tiny model, fixed seeds, one CPU thread."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from tests.translator.test_models_synthetic import TINY, build, exact_match, held_out, train, word_tokenizer
from translator.checkpoint import load_model_folder, save_folder
from translator.models.base import Batch, pad_sequences
from translator.models.cmlm import NUM_SPECIALS
from translator.models.diffusion_lm import DiffusionLM, alpha_bar, ngram_overlap
from translator.registry import load_folder
from translator.tokenizer import EOS, PAD

torch.set_num_threads(1)

FIRST = NUM_SPECIALS
SMALL = dict(TINY, latent_dim=16)


@pytest.fixture(scope="module")
def diffusion_lm():
    model = build(DiffusionLM, SMALL)
    train(model, 800)
    return model


def test_diffusion_lm_learns_synthetic_task(diffusion_lm):
    model = diffusion_lm
    batch, refs = held_out()
    outputs, details = model.generate(batch.src, **model.decoding_defaults)
    assert exact_match(outputs, refs) >= 0.9
    assert details[0] == {"steps": 20, "canvases": 3}
    outputs, details = model.generate(batch.src, steps=10, samples=4)
    assert exact_match(outputs, refs) >= 0.9 and details[0]["canvases"] == 12


def test_rounding_maps_noiseless_embeddings_to_their_tokens(diffusion_lm):
    for model in (DiffusionLM(SMALL), diffusion_lm):
        ids = torch.arange(FIRST, SMALL["vocab_size"])
        assert torch.equal(model.round_logits(model.latent.weight[ids]).argmax(-1), ids)
        # Specials are never produced, even from their own embedding.
        assert bool((model.round_logits(model.latent.weight[:FIRST]).argmax(-1) >= FIRST).all())


def test_schedule_and_mbr_similarity():
    a = alpha_bar(torch.arange(0, 1001), 1000)
    assert a[0] == pytest.approx(0.99, abs=1e-3) and a[-1] > 0 and bool((a[1:] < a[:-1]).all())
    assert ngram_overlap([6, 7, 8], [6, 7, 8]) == 1.0 and ngram_overlap([6], [7]) == 0.0
    assert ngram_overlap([6, 7, 8], [6, 8, 7]) == pytest.approx(2 * 3 / 10)  # 3 unigrams shared, no bigram


def test_sampling_is_reproducible_and_round_trips(tmp_path, diffusion_lm):
    model = diffusion_lm
    batch, _ = held_out(50, seed=99)
    expected = model.generate(batch.src, steps=10)
    assert model.generate(batch.src, steps=10) == expected  # the seeded noise makes a call reproducible
    fields = {"name": "synthetic-diffusion-lm", "source_lang": "en", "target_lang": "de"}
    folder = save_folder(tmp_path / "lm", model, word_tokenizer(), fields, half=False)
    loaded, _ = load_model_folder(folder)
    assert type(loaded) is DiffusionLM and loaded.config == model.config
    assert loaded.generate(batch.src, steps=10) == expected

    engine = load_folder(folder, device="cpu")
    assert engine.info.architecture == "diffusion-lm" and engine.info.decoding_defaults == model.decoding_defaults
    sentence = " ".join(f"t{t}" for t in batch.src[0].tolist() if t not in (EOS, PAD))
    result = engine.translate_batch([sentence], steps=5)
    steps = list(engine.refinement_steps(sentence, steps=5))
    assert [s.iteration for s in steps] == [1, 2, 3, 4, 5] and steps[-1].text == result.outputs[0]
    half = copy.deepcopy(model).half()
    assert all(len(out) >= 1 for out in half.generate(batch.src[:4], steps=5)[0])


def test_diffusion_lm_loss_survives_an_empty_target():
    src = pad_sequences([[FIRST, FIRST + 1, EOS], [FIRST + 2, EOS]], PAD)
    for tgt in (pad_sequences([[EOS], [FIRST + 14, EOS]], PAD), pad_sequences([[EOS], [EOS]], PAD)):
        torch.manual_seed(0)
        model = DiffusionLM(SMALL)
        loss, _ = model.loss(Batch(src, tgt, PAD), step=0)
        loss.backward()
        assert math.isfinite(loss.item())
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
