"""Absorbing-state discrete diffusion (translator/models/diffusion.py) on the synthetic task of test_models_synthetic.

Tiny models, fixed seeds, one CPU thread. A partly trained snapshot serves the decoding-quality checks: a
perfect model makes every number of steps give the same output, which proves nothing.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch

from tests.translator.test_models_synthetic import TINY, build, exact_match, held_out, train, word_tokenizer
from translator.checkpoint import load_model_folder, save_folder
from translator.models.base import Batch, pad_sequences
from translator.models.cmlm import CMLM, NUM_SPECIALS
from translator.models.diffusion import Diffusion, mask_rate, masked_after_step
from translator.registry import load_folder
from translator.tokenizer import EOS, MASK, PAD

torch.set_num_threads(1)

FIRST = NUM_SPECIALS


@pytest.fixture(scope="module")
def diffusion_model():
    model = build(Diffusion, TINY)
    snapshot = train(model, 400, snapshot_at=150)
    partial = Diffusion(TINY)
    partial.load_state_dict(snapshot)
    return model, partial.eval()


def test_diffusion_learns_synthetic_task(diffusion_model):
    model, _ = diffusion_model
    batch, refs = held_out()
    outputs, details = model.generate(batch.src, **model.decoding_defaults)
    assert exact_match(outputs, refs) >= 0.9
    assert {d["length_beam"] for d in details} == {3}
    assert all(1 <= d["steps"] <= 10 and d["predicted_length"] >= 1 for d in details)
    # The other routings decode it too: cosine schedule, stochastic top-k.
    for options in ({"schedule": "cosine"}, {"temperature": 1.0}):
        torch.manual_seed(0)
        outputs, _ = model.generate(batch.src, **{**model.decoding_defaults, **options})
        assert exact_match(outputs, refs) >= 0.9, options


def test_one_step_is_one_parallel_argmax(diffusion_model):
    """steps = 1: every position predicted at once from an all-MASK canvas of the predicted length."""
    _, model = diffusion_model
    batch, _ = held_out(100, seed=7)
    outputs, details = model.generate(batch.src, steps=1, length_beam=1, dedup=False)
    assert {d["steps"] for d in details} == {1}
    lengths, _ = model.predict_lengths(batch.src, length_beam=1)
    memory, src_mask, _ = model._encode(batch.src)
    width = int(lengths.max())
    real = torch.arange(width).unsqueeze(0) < lengths
    canvas = torch.full(real.shape, MASK).masked_fill(~real, PAD)
    logits = model._decode(canvas, batch.src, memory, src_mask)
    logits[..., :NUM_SPECIALS] = float("-inf")
    argmax = logits.argmax(-1)
    expected = [argmax[b, : int(lengths[b, 0])].tolist() for b in range(batch.src.size(0))]
    assert outputs == expected


def test_more_steps_never_lower_the_mean_model_score(diffusion_model):
    """Model score: CMLM.sequence_score, the pseudo-log-likelihood of the output (each token judged given the
    source and all other final tokens). Checked on the partly trained snapshot for both schedules."""
    _, model = diffusion_model
    batch, _ = held_out(100, seed=7)
    for schedule in ("linear", "cosine"):
        means = []
        for steps in (1, 2, 4, 10):
            outputs, _ = model.generate(batch.src, steps=steps, schedule=schedule, length_beam=3, dedup=False)
            means.append(model.sequence_score(batch.src, outputs).mean().item())
        assert all(b >= a - 1e-6 for a, b in zip(means, means[1:], strict=False)), (schedule, means)
        assert means[-1] > means[0] + 0.05, (schedule, means)


def test_refine_steps_follow_the_schedule(diffusion_model):
    """Step 1 predicts every position; step s the ⌊N·γ(1 − (s−1)/T)⌋ re-masked ones; the last step is the output.
    Gumbel noise (temperature > 0) changes which positions are re-masked, never how many."""
    _, model = diffusion_model
    batch, _ = held_out(1, seed=3)
    for schedule, temperature in (("linear", 0.0), ("cosine", 0.0), ("cosine", 2.0)):
        torch.manual_seed(0)
        steps = list(model.refine_steps(batch.src, steps=6, schedule=schedule, temperature=temperature, dedup=False))
        n = len(steps[0][1])
        expected = [n] + [int(masked_after_step(torch.tensor(n), s, 6, schedule)) for s in range(1, len(steps))]
        assert [s[0] for s in steps] == list(range(1, len(steps) + 1))
        assert [len(s[2]) for s in steps] == expected, schedule
        torch.manual_seed(0)
        outputs, _ = model.generate(batch.src, steps=6, schedule=schedule, temperature=temperature, dedup=False)
        assert steps[-1][1] == outputs[0]


def test_schedules_and_step_counts():
    assert mask_rate(0.0, "linear") == 0.0 and mask_rate(1.0, "linear") == 1.0
    assert mask_rate(0.0, "cosine") == 0.0 and mask_rate(1.0, "cosine") == pytest.approx(1.0)
    assert mask_rate(0.5, "cosine") == pytest.approx(math.sin(math.pi / 4))  # above linear: more masked
    lengths = torch.tensor([1, 7, 20])
    for schedule in ("linear", "cosine"):
        counts = [masked_after_step(lengths, s, 10, schedule) for s in range(0, 11)]
        assert torch.equal(counts[0], lengths) and counts[-1].eq(0).all()
        assert all(bool((b <= a).all()) for a, b in zip(counts, counts[1:], strict=False))
    assert masked_after_step(torch.tensor(20), 5, 10, "cosine") == math.floor(20 * math.cos(math.pi / 4))
    with pytest.raises(ValueError, match="schedule"):
        Diffusion(dict(TINY, noise_schedule="quadratic"))
    with pytest.raises(ValueError, match="schedule"):
        Diffusion(TINY).generate(torch.tensor([[FIRST, EOS]]), schedule="quadratic")


def test_corruption_and_loss_weights():
    model = Diffusion(dict(TINY, timesteps=4))
    tgt_mask = pad_sequences([[1] * 8, [1] * 3, [1]], 0).bool()
    torch.manual_seed(0)
    for _ in range(20):
        masked, k, t = model._corrupt(tgt_mask)
        n = masked.sum(1)
        assert not bool((masked & ~tgt_mask).any()) and bool((n >= 1).all())
        assert n.tolist() == [min(math.ceil(k_ / 4 * L), L) for k_, L in zip(k.tolist(), [8, 3, 1], strict=True)]
    masked = pad_sequences([[1, 1, 0, 0, 0, 0, 0, 0], [1, 1, 1]], 0).bool()
    k = torch.tensor([1, 4])
    tgt_mask = tgt_mask[:2]
    expected = {
        "linear": [1.0 / 8, 0.25 / 3],  # λ = 1 − (k−1)/T, over N
        "elbo": [1.0 / 2, 1.0 / 3],  # λ = N/n: each sentence's mean over its masked tokens
        "none": [1.0 / 8, 1.0 / 3],
        "token": [1.0, 1.0],  # every masked token alike: CMLM's loss
    }
    for weighting, weights in expected.items():
        model.config["loss_weighting"] = weighting
        assert model._sentence_weights(k, masked, tgt_mask).tolist() == pytest.approx(weights), weighting


def test_unrolled_denoising_learns_synthetic_task():
    model = build(Diffusion, dict(TINY, unroll_steps=1))
    train(model, 600)
    batch, refs = held_out()
    outputs, _ = model.generate(batch.src, **model.decoding_defaults)
    assert exact_match(outputs, refs) >= 0.9
    model.train()
    torch.manual_seed(0)
    _, stats = model.loss(batch, 0)
    assert stats["unroll_loss"] > 0


def test_replayed_step_remasks_the_least_confident_samples():
    model = Diffusion(dict(TINY, noise_schedule="linear"))
    tgt_mask = torch.ones(1, 6, dtype=torch.bool)
    masked = torch.tensor([[True, True, True, True, False, False]])
    tokens = torch.tensor([[MASK] * 4 + [FIRST, FIRST + 1]])
    logits = torch.full((4, TINY["vocab_size"]), -30.0)
    logits[torch.arange(4), FIRST + torch.arange(4)] = torch.tensor([9.0, 0.5, 6.0, 0.0])  # confidences differ
    logits[:, FIRST + 10] = torch.tensor([0.0, 0.0, 0.0, -1.0])
    torch.manual_seed(0)
    for _ in range(10):
        new_tokens, remask, t_next = model._replay_step(tokens, masked, torch.tensor([1.0]), logits, tgt_mask)
        assert 0 <= float(t_next) < 1.0 and not bool((remask & ~masked).any())
        n = int(remask.sum())
        assert n == min(math.floor(float(t_next) * 6), 4)
        assert new_tokens[0, 4:].tolist() == [FIRST, FIRST + 1]  # the visible reference tokens stay
        filled = new_tokens[0, :4][~remask[0, :4]]
        assert bool((filled >= FIRST).all())  # a sample, never MASK or another special
        assert bool(new_tokens[0, :4][remask[0, :4]].eq(MASK).all())


def test_losses_survive_an_empty_target():
    src = pad_sequences([[FIRST, FIRST + 1, EOS], [FIRST + 2, EOS]], PAD)
    tgt = pad_sequences([[EOS], [FIRST + 14, EOS]], PAD)
    for unroll in (0, 2):
        torch.manual_seed(0)
        model = Diffusion(dict(TINY, unroll_steps=unroll))
        loss, stats = model.loss(Batch(src, tgt, PAD), step=0)
        loss.backward()
        assert math.isfinite(loss.item()) and stats["tokens"] == 1
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_save_load_round_trip_and_engine(tmp_path, diffusion_model):
    model, _ = diffusion_model
    batch, _ = held_out(50, seed=99)
    expected = model.generate(batch.src, **model.decoding_defaults)
    engine_fields = {"name": "synthetic-diffusion", "source_lang": "en", "target_lang": "de"}
    folder = save_folder(tmp_path / "diffusion", model, word_tokenizer(), engine_fields, half=False)
    loaded, _ = load_model_folder(folder)
    assert type(loaded) is Diffusion and loaded.config == model.config
    assert loaded.generate(batch.src, **model.decoding_defaults) == expected
    for key in ("glancing_mix", "glancing_ratio"):
        assert key not in loaded.config

    # Through the registry and the shared engine wrapper, refinement view included.
    engine = load_folder(folder, device="cpu")
    assert engine.info.architecture == "diffusion" and engine.info.decoding_defaults == model.decoding_defaults
    sentence = " ".join(f"t{t}" for t in batch.src[0].tolist() if t != EOS and t != PAD)
    result = engine.translate_batch([sentence], steps=4, schedule="cosine")
    direct, _ = model.generate(batch.src[:1], steps=4, schedule="cosine", length_beam=3, dedup=True)
    assert result.outputs[0] == " ".join(f"t{t}" for t in direct[0])
    steps = list(engine.refinement_steps(sentence, steps=4, schedule="cosine"))
    assert len(steps) > 1 and steps[-1].text == result.outputs[0]

    # fp16 shipping: identical to the same model rounded through fp16 and back.
    folder16 = save_folder(tmp_path / "diffusion-16", model, word_tokenizer(), engine_fields)
    rounded = copy.deepcopy(model).half().float().eval()
    assert load_model_folder(folder16)[0].generate(batch.src)[0] == rounded.generate(batch.src)[0]
    # Half-precision weights decode (what a GPU serves), the stochastic routing too.
    half = copy.deepcopy(model).half()
    assert all(len(out) >= 1 for out in half.generate(batch.src[:4], temperature=1.0)[0])


def test_warm_start_from_cmlm_copies_everything_and_reproduces_mask_predict(tmp_path):
    """A CMLM checkpoint has the same parameters: ``init_from`` copies every tensor, and with the linear schedule
    and deterministic routing the diffusion decoder is mask-predict, output for output."""
    from translator.train import warm_start

    cmlm = build(CMLM, TINY)
    train(cmlm, 150)  # partly trained: the iterations change the outputs
    folder = save_folder(tmp_path / "cmlm", cmlm, word_tokenizer(), {"name": "tiny-cmlm"}, half=False)
    model = build(Diffusion, TINY, seed=1).eval()
    copied = warm_start(model, folder, word_tokenizer())
    assert sorted(copied) == sorted(model.state_dict()) and any(n.startswith("length_head") for n in copied)
    for name, value in cmlm.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name

    batch, _ = held_out(100, seed=7)
    changed = False
    for T in (1, 3, 10):
        ours = model.generate(batch.src, steps=T, schedule="linear", temperature=0.0, length_beam=3, dedup=False)[0]
        assert ours == cmlm.generate(batch.src, iterations=T, length_beam=3, dedup=False)[0], T
        changed |= ours != model.generate(batch.src, steps=1, length_beam=3, dedup=False)[0]
    assert changed, "a partly trained model should make the steps matter"
    ours = list(model.refine_steps(batch.src[:1], steps=4, schedule="linear"))
    assert ours == list(cmlm.refine_steps(batch.src[:1], iterations=4))
