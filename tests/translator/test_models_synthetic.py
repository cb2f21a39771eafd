"""All three model families learn a synthetic translation task, plus decoding and round-trip checks.

The task ("copy with a vocabulary map and expansion"): a source of 3–8 random tokens (no immediate
repeats) maps token-by-token to target tokens, and every third source token also emits a second
token, so the target is longer than the source by a source-dependent amount. Getting it exactly right
needs a correct loss, correct masking/glancing, a correct length prediction (CMLM: the offset depends
on which tokens occur) and a correct decoder; a break in any of them drops exact-match accuracy far
below the 90 % asked for. Tiny models, fixed seeds, one CPU thread, a plain AdamW loop.
"""

from __future__ import annotations

import copy
import itertools
import math
import random

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers

from translator.checkpoint import load_model_folder, save_folder
from translator.models import torch_engine
from translator.models.ar_transformer import ARTransformer
from translator.models.base import Batch, pad_sequences
from translator.models.cmlm import CMLM
from translator.models.ctc_glat import (
    CTCGlat,
    ctc_best_alignment,
    ctc_collapse,
    ctc_prefix_beam_search,
)
from translator.tokenizer import BLANK, EOS, MASK, PAD, SPECIAL_TOKENS, SubwordTokenizer

torch.set_num_threads(1)

FIRST = len(SPECIAL_TOKENS)  # first ordinary token id (6)
N_SRC = 12  # source tokens FIRST .. FIRST+11
VOCAB = FIRST + 2 * N_SRC + N_SRC // 3  # mapped tokens + expansion tokens = 34
MAX_SOURCE_TOKENS = 16
TINY = dict(
    vocab_size=VOCAB,
    d_model=64,
    heads=4,
    ffn_dim=128,
    encoder_layers=2,
    decoder_layers=2,
    dropout=0.0,
    max_positions=64,
    max_source_tokens=MAX_SOURCE_TOKENS,
)
AR_EXACT = {"beam": 1, "no_repeat_ngram_size": 0}  # the task has no reason to block n-grams


def make_pair(rng: random.Random) -> tuple[list[int], list[int]]:
    n = rng.randint(3, 8)
    src: list[int] = []
    while len(src) < n:
        token = rng.randrange(FIRST, FIRST + N_SRC)
        if not src or src[-1] != token:
            src.append(token)
    tgt = []
    for token in src:
        i = token - FIRST
        tgt.append(FIRST + N_SRC + i)
        if i % 3 == 0:
            tgt.append(FIRST + 2 * N_SRC + i // 3)
    return src, tgt


def make_batch(rng: random.Random, size: int) -> tuple[Batch, list[list[int]]]:
    """Sources end with EOS; targets too (the shared data loader's convention: NAR models strip it)."""
    pairs = [make_pair(rng) for _ in range(size)]
    src = pad_sequences([s + [EOS] for s, _ in pairs], PAD)
    tgt = pad_sequences([t + [EOS] for _, t in pairs], PAD)
    return Batch(src, tgt, PAD), [t for _, t in pairs]


def held_out(size: int = 200, seed: int = 12345):
    return make_batch(random.Random(seed), size)


def exact_match(outputs, refs) -> float:
    return sum(o == r for o, r in zip(outputs, refs, strict=False)) / len(refs)


def build(cls, config: dict, seed: int = 0):
    """Seeded construction: the initial weights must not depend on which tests ran before."""
    torch.manual_seed(seed)
    return cls(config)


def train(model, steps: int, seed: int = 0, lr: float = 3e-3, snapshot_at: int | None = None):
    """Plain AdamW with a short warm-up; returns a copy of the weights at ``snapshot_at`` if asked."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 50))
    snapshot = None
    model.train()
    for step in range(steps):
        if step == snapshot_at:
            snapshot = copy.deepcopy(model.state_dict())
        batch, _ = make_batch(rng, 64)
        loss, stats = model.loss(batch, step)
        assert stats["tokens"] > 0 and math.isfinite(loss.item())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    model.eval()
    return snapshot


def word_tokenizer() -> SubwordTokenizer:
    """A word-level tokenizer over the synthetic vocabulary ("t6 t7 …"), specials at their fixed ids."""
    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    vocab.update({f"t{i}": i for i in range(FIRST, VOCAB)})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return SubwordTokenizer(tok)


# ----------------------------------------------------------------------------- trained models
# Trained once per module; each within ~20 s on one thread. Partly trained snapshots serve the
# search-quality tests (a perfect model makes beam = greedy and T=1 = T=10, which proves nothing).


@pytest.fixture(scope="module")
def ar_model():
    model = build(ARTransformer, TINY)
    snapshot = train(model, 500, snapshot_at=150)
    return model, snapshot


@pytest.fixture(scope="module")
def cmlm_model():
    model = build(CMLM, TINY)
    snapshot = train(model, 900, snapshot_at=150)
    return model, snapshot


@pytest.fixture(scope="module")
def ctc_model():
    model = build(CTCGlat, dict(TINY, glat_anneal_steps=400))
    train(model, 400)
    return model


def test_ar_learns_synthetic_task(ar_model):
    model, _ = ar_model
    batch, refs = held_out()
    outputs, _ = model.generate(batch.src, **AR_EXACT)
    assert exact_match(outputs, refs) >= 0.9
    beam_outputs, _ = model.generate(batch.src, beam=4, no_repeat_ngram_size=0)
    assert exact_match(beam_outputs, refs) >= 0.9


def test_cmlm_learns_synthetic_task(cmlm_model):
    model, _ = cmlm_model
    batch, refs = held_out()
    outputs, details = model.generate(batch.src, **model.decoding_defaults)
    assert exact_match(outputs, refs) >= 0.9
    # Length prediction itself is right (the offset depends on the tokens, not just the source length).
    lengths, _ = model.predict_lengths(batch.src, length_beam=1)
    assert (lengths[:, 0] == torch.tensor([len(r) for r in refs])).float().mean() >= 0.9
    assert {d["length_beam"] for d in details} == {3}
    assert all(1 <= d["iterations"] <= 10 and d["predicted_length"] >= 1 for d in details)
    # One iteration and a single length already solve this easy task; the full loop must not break it.
    outputs_1, _ = model.generate(batch.src, iterations=1, length_beam=1, dedup=False)
    assert exact_match(outputs_1, refs) >= 0.85


def test_ctc_learns_synthetic_task(ctc_model):
    batch, refs = held_out()
    outputs, details = ctc_model.generate(batch.src)
    assert exact_match(outputs, refs) >= 0.9
    assert details[0] == {"upsample": 3, "ctc_beam": 1, "blank_penalty": 0.0}
    beam_outputs, _ = ctc_model.generate(batch.src[:40], ctc_beam=3)
    assert exact_match(beam_outputs, refs[:40]) >= 0.9


def test_ctc_blank_penalty_trades_blanks_for_tokens(ctc_model):
    """The penalty lowers the blank's logit before the argmax: a huge one leaves no blank slot.

    (That it lengthens a real model's short outputs is tested on the shipped en→de checkpoint.)"""
    batch, _ = held_out()
    ctc_model.eval()
    outputs, details = ctc_model.generate(batch.src, blank_penalty=0.0)
    assert outputs == ctc_model.generate(batch.src)[0] and details[0]["blank_penalty"] == 0.0
    # With no blank allowed, every slot emits a token: the output is the slots' argmax with repeats merged.
    logits, slot_mask = ctc_model._frame_logits(batch.src)
    logits[..., BLANK] = float("-inf")
    frames = logits.argmax(-1)
    no_blank = [ctc_collapse(frames[b, : int(slot_mask[b].sum())].tolist()) for b in range(batch.src.size(0))]
    assert ctc_model.generate(batch.src, blank_penalty=1e4)[0] == no_blank
    with pytest.raises(ValueError, match="blank_penalty"):
        ctc_model.generate(batch.src, blank_penalty=-1.0)


def test_ar_beam_never_below_greedy_on_model_score(ar_model):
    """Model score = ARTransformer.sequence_score: sum of log-probs of the output + EOS.

    length_penalty=0 makes beam search rank by that same sum (the default 1.0 divides by length).
    """
    model, snapshot = ar_model
    partial = ARTransformer(TINY)
    partial.load_state_dict(snapshot)
    partial.eval()
    batch, _ = held_out(200, seed=7)  # enough sentences for beam and greedy to disagree on a few
    greedy, _ = partial.generate(batch.src, beam=1, no_repeat_ngram_size=0, length_penalty=0.0)
    beam, _ = partial.generate(batch.src, beam=5, no_repeat_ngram_size=0, length_penalty=0.0)
    g = partial.sequence_score(batch.src, greedy)
    b = partial.sequence_score(batch.src, beam)
    assert bool((b >= g - 1e-4).all()), (b - g).min()
    assert sum(x != y for x, y in zip(greedy, beam, strict=False)) > 0, "partly trained model should make beam matter"


def test_uniform_copy_spreads_the_source_over_the_target_positions():
    from translator.models.cmlm import uniform_copy

    src = pad_sequences([[10, 11, 12, EOS], [20, EOS], [EOS]], PAD)
    tgt_mask = pad_sequences([[1] * 6, [1] * 3, [1, 1]], 0).bool()
    assert uniform_copy(src, tgt_mask).tolist() == [
        [10, 10, 11, 11, 12, 12],
        [20, 20, 20, PAD, PAD, PAD],
        [EOS, EOS, PAD, PAD, PAD, PAD],
    ]
    short = pad_sequences([[10, 11, 12, 13, EOS]], PAD)
    assert uniform_copy(short, torch.ones(1, 2, dtype=torch.bool)).tolist() == [[10, 12]]


def test_cmlm_with_source_copy_inputs_learns_synthetic_task():
    """masked_input=source_copy: masked positions read the copied source embedding, trained and decoded alike."""
    model = build(CMLM, dict(TINY, masked_input="source_copy"))
    train(model, 500)
    batch, refs = held_out()
    outputs, _ = model.generate(batch.src, **model.decoding_defaults)
    assert exact_match(outputs, refs) >= 0.9
    # The source really reaches the decoder input: a masked position's embedding is the copied token's.
    tokens = torch.full((1, 4), MASK)
    src = torch.tensor([[FIRST, FIRST + 1, EOS]])
    assert torch.equal(model._decoder_input(tokens, src)[0, 0], model.backbone.token_embeddings(torch.tensor(FIRST)))


def test_mask_predict_more_iterations_never_lower_model_score(cmlm_model):
    """Model score of a CMLM output y for source x (CMLM.sequence_score): the mean over positions i of
    log p(y_i | x, y with position i masked) — the pseudo-log-likelihood of the final sequence, i.e.
    how well every final token is supported by the source and all other final tokens, the quantity
    mask-predict's re-masking climbs.

    Mask-predict is a greedy heuristic, not an exact maximiser: one step re-predicts a block of
    tokens independently of each other, so a single sentence can lose score between two iteration
    counts, and T=2 (half the tokens re-predicted at once) sometimes even dips on average (seen with
    other training seeds). What holds, and is checked on a partly trained model: the mean score over
    a held-out set rises with T = 1 → 4 → 10, and T=10 is not worse than T=1 for ≥ 95 % of sentences.
    """
    model, snapshot = cmlm_model
    partial = CMLM(TINY)
    partial.load_state_dict(snapshot)
    partial.eval()
    batch, _ = held_out(100, seed=7)
    scores = {}
    for T in (1, 4, 10):
        outputs, _ = partial.generate(batch.src, iterations=T, length_beam=3, dedup=False)
        scores[T] = partial.sequence_score(batch.src, outputs)
    means = [scores[T].mean().item() for T in (1, 4, 10)]
    assert all(b >= a - 1e-6 for a, b in zip(means, means[1:], strict=False)), means
    assert means[-1] > means[0] + 0.02, means
    assert (scores[10] >= scores[1] - 1e-4).float().mean() >= 0.95


def test_cmlm_refine_steps_report_each_iteration(cmlm_model):
    model, _ = cmlm_model
    batch, refs = held_out(1, seed=3)
    steps = list(model.refine_steps(batch.src, iterations=4, length_beam=3, dedup=False))
    length = len(steps[0][1])
    assert [s[0] for s in steps] == list(range(1, len(steps) + 1)) and 1 <= len(steps) <= 4
    assert steps[0][2] == list(range(length))  # iteration 1 predicts every position
    assert all(len(ids) == length and all(0 <= p < length for p in masked) for _, ids, masked in steps)
    # Linear decay: iteration t re-predicts len·(T−t+1)/T positions.
    assert [len(s[2]) for s in steps[1:]] == [length * (4 - t) // 4 for t in range(1, len(steps))]
    assert steps[-1][1] == refs[0]


def test_nar_length_never_zero_or_absurd_untrained():
    torch.manual_seed(0)
    src = pad_sequences([[EOS], [FIRST, EOS], [FIRST + i % N_SRC for i in range(15)] + [EOS]], PAD)
    src_len = src.ne(PAD).sum(1).tolist()
    for seed in range(3):
        torch.manual_seed(seed)
        cmlm = CMLM(dict(TINY, max_length_offset=8)).eval()
        lengths, _ = cmlm.predict_lengths(src, length_beam=5)
        for row, n in zip(lengths.tolist(), src_len, strict=False):
            assert all(1 <= L <= 2 * n + 10 for L in row), (row, n)
        outputs, details = cmlm.generate(src, iterations=3, length_beam=5)
        for out, det, n in zip(outputs, details, src_len, strict=False):
            assert 1 <= len(out) <= 2 * n + 10 and 1 <= det["predicted_length"] <= 2 * n + 10
            assert all(t >= FIRST for t in out)
        ctc = CTCGlat(TINY).eval()
        outputs, _ = ctc.generate(src)
        for out, n in zip(outputs, src_len, strict=False):
            assert 1 <= len(out) <= 3 * n and all(t >= FIRST for t in out)
    # A source longer than any allowed target still gets a bounded, non-empty length.
    long_src = torch.full((1, 300), FIRST, dtype=torch.long)
    cmlm = CMLM(dict(TINY, max_positions=32)).eval()
    lengths, _ = cmlm.predict_lengths(long_src, length_beam=3)
    assert bool(((lengths >= 1) & (lengths <= 32)).all())


# ----------------------------------------------------------------------------------- CTC parts


def test_ctc_collapse():
    b = BLANK
    assert ctc_collapse([]) == []
    assert ctc_collapse([b, b, b]) == []
    assert ctc_collapse([7, 7, 7]) == [7]
    assert ctc_collapse([7, 7, b, 8, 8, b]) == [7, 8]
    assert ctc_collapse([7, b, 7]) == [7, 7]  # a blank between repeats keeps both
    assert ctc_collapse([b, 7, 7, b, b, 7, 8, 8, 9, b]) == [7, 7, 8, 9]


def test_ctc_best_alignment_is_the_viterbi_path():
    """Compare with brute force over every input sequence that collapses to the target."""
    torch.manual_seed(0)
    V, U = 8, 5
    targets = [[6, 7], [6, 6], [7], [6, 7, 6]]
    log_probs = torch.randn(len(targets), U, V).log_softmax(-1)
    input_lengths = torch.tensor([5, 4, 3, 5])
    tgt = pad_sequences(targets, PAD)
    lengths = torch.tensor([len(t) for t in targets])
    labels = ctc_best_alignment(log_probs, input_lengths, tgt, lengths)
    for b, target in enumerate(targets):
        n = int(input_lengths[b])
        best = max(
            (path for path in itertools.product([BLANK, *set(target)], repeat=n) if ctc_collapse(list(path)) == target),
            key=lambda path: sum(log_probs[b, t, c].item() for t, c in enumerate(path)),
        )
        assert labels[b, :n].tolist() == list(best)
        assert labels[b, n:].tolist() == [PAD] * (U - n)


def test_ctc_prefix_beam_search_sums_paths():
    # Greedy takes blank twice (0.6 > 0.4) and outputs nothing; but "a" has probability
    # 0.4·0.6 + 0.6·0.4 + 0.4·0.4 = 0.64 > 0.36 for "", which the prefix beam search finds.
    a = 6
    probs = torch.full((2, 8), 1e-9)
    probs[:, BLANK], probs[:, a] = 0.6, 0.4
    log_probs = probs.log()
    assert ctc_collapse(log_probs.argmax(-1).tolist()) == []
    assert ctc_prefix_beam_search(log_probs, beam=4) == [a]


def test_glancing_ratio_anneals():
    model = CTCGlat(dict(TINY, glat_ratio_start=0.5, glat_ratio_end=0.3, glat_anneal_steps=100))
    assert model.glancing_ratio(0) == pytest.approx(0.5)
    assert model.glancing_ratio(50) == pytest.approx(0.4)
    assert model.glancing_ratio(1000) == pytest.approx(0.3)


def test_ctc_skips_targets_that_cannot_fit():
    model = CTCGlat(TINY)
    src = pad_sequences([[FIRST, EOS], [FIRST, FIRST + 1, EOS]], PAD)  # 6 and 9 slots
    tgt = pad_sequences([[FIRST] * 7 + [EOS], [FIRST + 2, EOS]], PAD)  # 7 repeats need 13 slots
    loss, stats = model.loss(Batch(src, tgt, PAD), step=0)
    assert stats["skipped_pairs"] == 1 and math.isfinite(loss.item())
    loss.backward()


def test_nar_losses_survive_an_empty_target():
    """A pair whose target is only EOS (empty after stripping) must not poison the batch with NaN."""
    src = pad_sequences([[FIRST, FIRST + 1, EOS], [FIRST + 2, EOS]], PAD)
    tgt = pad_sequences([[EOS], [FIRST + N_SRC + 2, EOS]], PAD)
    for cls in (CMLM, CTCGlat):
        torch.manual_seed(0)
        model = cls(TINY)
        loss, stats = model.loss(Batch(src, tgt, PAD), step=0)
        loss.backward()
        assert math.isfinite(loss.item()) and stats["tokens"] == 1, cls.__name__
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None), cls.__name__


# --------------------------------------------------------------------- checkpoints and engine


def _families(ar_model, cmlm_model, ctc_model):
    return {"transformer": ar_model[0], "cmlm": cmlm_model[0], "ctc-glat": ctc_model}


def _options(architecture: str) -> dict:
    return AR_EXACT if architecture == "transformer" else {}


def test_save_load_round_trip_identical_outputs(tmp_path, ar_model, cmlm_model, ctc_model):
    batch, _ = held_out(50, seed=99)
    for architecture, model in _families(ar_model, cmlm_model, ctc_model).items():
        expected, expected_details = model.generate(batch.src, **_options(architecture))
        folder = save_folder(tmp_path / architecture, model, word_tokenizer(), {"name": architecture}, half=False)
        loaded, tokenizer = load_model_folder(folder)
        assert type(loaded) is type(model) and loaded.config == model.config
        got, got_details = loaded.generate(batch.src, **_options(architecture))
        assert got == expected and got_details == expected_details, architecture

        # fp16 shipping: identical to the same model rounded through fp16 and back.
        folder16 = save_folder(tmp_path / f"{architecture}-16", model, word_tokenizer(), {"name": architecture})
        rounded = copy.deepcopy(model).half().float().eval()
        loaded16, _ = load_model_folder(folder16)
        assert (
            loaded16.generate(batch.src, **_options(architecture))[0]
            == rounded.generate(batch.src, **_options(architecture))[0]
        ), architecture


def test_engine_handles_empty_and_over_long_inputs(tmp_path, ar_model, cmlm_model, ctc_model):
    tokenizer = word_tokenizer()
    for architecture, model in _families(ar_model, cmlm_model, ctc_model).items():
        folder = save_folder(
            tmp_path / architecture,
            model,
            tokenizer,
            {"name": f"synthetic-{architecture}", "source_lang": "en", "target_lang": "de"},
            half=False,
        )
        engine = torch_engine.load(folder, device="cpu")
        assert engine.info.family == model.family and engine.info.decoding_defaults == model.decoding_defaults
        src, _ = make_pair(random.Random(5))
        direct, _ = model.generate(
            pad_sequences([src + [EOS]], PAD), **{**model.decoding_defaults, **_options(architecture)}
        )
        long_input = " ".join(f"t{FIRST + i % N_SRC}" for i in range(3 * MAX_SOURCE_TOKENS))
        result = engine.translate_batch(
            ["", " t6 t7 t8 ", "   ", long_input, " ".join(f"t{t}" for t in src)], **_options(architecture)
        )
        assert result.outputs[0] == "" and result.outputs[2] == ""
        assert result.outputs[1] and result.outputs[3]
        assert result.details[1]["truncated"] is False and result.details[3]["truncated"] is True
        assert result.outputs[4] == " ".join(f"t{t}" for t in direct[0]), architecture
        steps = list(engine.refinement_steps(" ".join(f"t{t}" for t in src), **_options(architecture)))
        assert steps and steps[-1].text == result.outputs[4]
        if architecture == "cmlm":
            assert len(steps) > 1 and steps[0].iteration == 1


def test_models_follow_input_dtype_and_device_conventions():
    """Configs are JSON-serialisable, and fp16 weights decode (CUDA serves fp16; CPU matmuls cover it)."""
    import json

    for cls in (CMLM, CTCGlat):
        model = cls(TINY).eval()
        assert json.loads(json.dumps(model.config))["architecture"] == cls.architecture
        assert model.targets_with_eos is False and model.family == "NAR"
        half = copy.deepcopy(model).half()
        src = pad_sequences([[FIRST, FIRST + 1, EOS]], PAD)
        outputs, _ = half.generate(src)
        assert len(outputs[0]) >= 1


def test_default_configs_are_cpu_sized():
    for cls in (CMLM, CTCGlat):
        n = cls({}).num_parameters()
        assert 8e6 <= n <= 12e6, (cls.__name__, n)


def test_lean_marian_encoder_equals_transformers_forward():
    """Inference runs the Marian encoder through NATBackbone's own loop (no per-call machinery of
    transformers): it must give transformers' eval-mode output exactly, in fp32 and in int8, padding included."""
    from translator.quantize import quantize_int8

    model = build(CTCGlat, dict(TINY, encoder_type="marian", dropout=0.1)).eval()
    src = pad_sequences([[FIRST, FIRST + 3, FIRST + 1, FIRST + 7, EOS], [FIRST + 2, EOS]], PAD)
    mask = src.ne(PAD)
    for precision, candidate in (("fp32", model), ("int8", quantize_int8(copy.deepcopy(model)))):
        backbone = candidate.backbone
        with torch.inference_mode():
            lean = backbone.encode(src, mask)
            reference = backbone._marian_encode_transformers(src, mask)
        assert torch.allclose(lean[mask], reference[mask], atol=1e-5), precision
    # Training keeps transformers' forward (dropout and all): the lean loop is for eval mode only.
    model.train()
    torch.manual_seed(0)
    a = model.backbone.encode(src, mask)
    torch.manual_seed(0)
    b = model.backbone._marian_encode_transformers(src, mask)
    assert torch.equal(a, b)


def test_glancing_mask_reveals_a_ratio_of_the_wrong_positions():
    from translator.models.cmlm import glancing_mask

    tgt = pad_sequences([[10, 11, 12, 13, 14, 15, 16, 17], [20, 21, 22, 23]], PAD)
    tgt_mask = tgt.ne(PAD)
    right_first = tgt.clone()
    assert torch.equal(glancing_mask(right_first, tgt, tgt_mask, 0.5), tgt_mask)  # nothing wrong: all masked
    all_wrong = torch.full_like(tgt, 5)
    masked = glancing_mask(all_wrong, tgt, tgt_mask, 0.5)
    assert masked.sum(1).tolist() == [4, 2]  # half of the 8 and of the 4 wrong positions revealed
    assert not bool((masked & ~tgt_mask).any())  # padding is never a masked target
    three_wrong = tgt.clone()
    three_wrong[0, :3] = 5
    assert glancing_mask(three_wrong, tgt, tgt_mask, 0.5)[0].sum() == 8 - 1  # floor(0.5 * 3) = 1 revealed


def test_cmlm_with_glancing_masks_learns_synthetic_task():
    model = build(CMLM, dict(TINY, masked_input="source_copy", glancing_mix=0.5))
    train(model, 500)
    batch, refs = held_out()
    outputs, _ = model.generate(batch.src, **model.decoding_defaults)
    assert exact_match(outputs, refs) >= 0.9
    model.train()
    flags = {model.loss(batch, 0)[1]["glancing"] for _ in range(20)}
    assert flags == {True, False}  # both kinds of batches occur at mix 0.5
