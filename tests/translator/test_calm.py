"""CALM early exit (translator/models/calm.py) and its Learn-then-Test calibration (translator/calibrate_calm.py).

A 3-layer-decoder CALM learns the synthetic task of test_models_synthetic (one module-scoped training, ~25 s on
one thread); the decoding tests compare its KV-cache early-exit decoder with independent references:
transformers' own generate() at full depth, and a recompute-everything greedy loop built from
transformers' decoder layers that applies the exit rule and the state propagation by hand.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from translator.calibrate_calm import hoeffding_p_value, learn_then_test
from translator.checkpoint import save_folder
from translator.cli import main as cli
from translator.engine import EngineError
from translator.models.ar_transformer import ARTransformer
from translator.models.calm import CALM, MEASURES
from translator.registry import load_folder
from translator.tokenizer import EOS, PAD
from translator.train import warm_start

from .test_models_synthetic import TINY, build, exact_match, held_out, train, word_tokenizer

torch.set_num_threads(1)

CALM_TINY = dict(TINY, decoder_layers=3)
GREEDY = {"beam": 1, "no_repeat_ngram_size": 0}


@pytest.fixture(scope="module")
def trained():
    """The trained model, and its weights early in training (layers still disagree often there)."""
    model = build(CALM, CALM_TINY)
    snapshot = train(model, 300, snapshot_at=120)
    return model, snapshot


@pytest.fixture(scope="module")
def calm_model(trained):
    return trained[0]


def sentence_accuracy(logits: torch.Tensor, batch) -> float:
    """Share of sentences whose every target token (EOS included) is the argmax, teacher-forced."""
    right = logits.argmax(-1).eq(batch.tgt) | ~batch.tgt_mask
    return float(right.all(1).float().mean())


def test_multi_exit_model_learns_the_task_at_every_exit(calm_model):
    batch, refs = held_out()
    with torch.no_grad():
        _, logits = calm_model.exit_logits(batch)
    assert len(logits) == 3
    for layer_logits in logits:
        assert sentence_accuracy(layer_logits, batch) >= 0.9
    # Free-running too: at full depth, and leaving every token at layer 1.
    for threshold, layer in ((1.0, 3), (0.0, 1)):
        outputs, details = calm_model.generate(batch.src, threshold=threshold, **GREEDY)
        assert exact_match(outputs, refs) >= 0.85, threshold
        assert all(d["exit_layers"] == [layer] * len(o) for o, d in zip(outputs, details, strict=True))


def test_exit_classifier_learns_which_layers_agree_with_the_last(trained):
    """Ranking quality (AUC) of the classifier: states whose prediction already is the last layer's should
    score above those whose prediction is not. Judged early in training, where both kinds are plentiful."""
    model = build(CALM, CALM_TINY)
    model.load_state_dict(trained[1])
    model.eval()
    batch, _ = held_out(1000, seed=5)
    with torch.no_grad():
        states, logits = model.exit_logits(batch)
        final = logits[-1].argmax(-1)
        scores = torch.cat([model.exit_classifier(h).squeeze(-1)[batch.tgt_mask] for h in states[:-1]])
        agree = torch.cat([layer.argmax(-1).eq(final)[batch.tgt_mask] for layer in logits[:-1]])
    assert (~agree).sum() >= 500 and agree.sum() >= 500
    auc = (scores[agree][:, None] > scores[~agree][None, :]).float().mean()
    assert auc >= 0.65, float(auc)


def test_threshold_one_equals_the_plain_full_depth_decoder(calm_model):
    """λ = 1 never exits early: same tokens as the same weights decoded by transformers' generate()."""
    plain = ARTransformer({k: v for k, v in calm_model.config.items() if k != "architecture"}).eval()
    plain.marian.load_state_dict(calm_model.marian.state_dict())
    batch, _ = held_out(25, seed=7)
    plain.use_hf_generate = True
    for beam in (1, 3):
        expected = [
            plain.generate(batch.src[i : i + 1], beam=beam, no_repeat_ngram_size=2)[0][0]
            for i in range(batch.src.size(0))
        ]
        for measure in MEASURES:
            outputs, details = calm_model.generate(
                batch.src, beam=beam, threshold=1.0, measure=measure, no_repeat_ngram_size=2
            )
            assert outputs == expected, (beam, measure)
            if beam == 1:
                assert all(
                    d["exit_layers"] == [3] * len(o) and d["average_layers"] == 3
                    for o, d in zip(outputs, details, strict=True)
                )


def test_threshold_zero_exits_every_token_at_layer_one(calm_model):
    batch, _ = held_out(40, seed=8)
    for measure in MEASURES:
        outputs, details = calm_model.generate(batch.src, threshold=0.0, measure=measure, **GREEDY)
        assert all(
            d["exit_layers"] == [1] * len(o) and d["average_layers"] == 1 for o, d in zip(outputs, details, strict=True)
        )
        assert outputs == [reference_greedy(calm_model, row, 0.0, measure)[0] for row in batch.src]


def confidence(model, measure: str, h: torch.Tensor, previous: torch.Tensor) -> float:
    if measure == "softmax":
        logits = (model.marian.lm_head(h) + model.marian.final_logits_bias[0]).float()
        logits[PAD] = -math.inf
        top = logits.softmax(-1).topk(2).values
        return float(top[0] - top[1])
    if measure == "saturation":
        return max(0.0, float(torch.nn.functional.cosine_similarity(h, previous, dim=0)))
    return float(torch.sigmoid(model.exit_classifier(h))[0])


@torch.no_grad()
def reference_greedy(model, src_row: torch.Tensor, threshold: float, measure: str) -> tuple[list[int], list[int]]:
    """Greedy early-exit decoding of one sentence with no cache at all: each step reruns transformers'
    decoder layers over the whole prefix, where a position that exited at layer e feeds its exited state
    (not its layer-i output) into every layer above e — the paper's propagation, written out."""
    src = src_row[src_row.ne(PAD)][None]
    memory = model.marian.model.encoder(input_ids=src).last_hidden_state
    decoder = model.marian.model.decoder
    depth = len(decoder.layers)
    limit = min(int(1.5 * src.size(1) + 10), model.config["max_positions"] - 1)
    tokens, exits, exited = [PAD], [], []
    for t in range(limit):
        ids = torch.tensor([tokens])
        h = decoder.embed_tokens(ids) * decoder.embed_scale + decoder.embed_positions.weight[: len(tokens)]
        causal = torch.full((len(tokens), len(tokens)), -math.inf).triu(1)[None, None]
        states = [h[0, t]]  # this position's state after each layer; [0] = the layer-1 input
        for i, layer in enumerate(decoder.layers):
            h = h.clone()
            for p in range(t):
                if exits[p] <= i:
                    h[0, p] = exited[p]
            h = layer(h, attention_mask=causal, encoder_hidden_states=memory, use_cache=False)
            states.append(h[0, t])
        exit_layer = depth
        if threshold < 1:
            exit_layer = next(
                (i for i in range(1, depth) if confidence(model, measure, states[i], states[i - 1]) >= threshold),
                depth,
            )
        exits.append(exit_layer)
        exited.append(states[exit_layer])
        logits = model.marian.lm_head(states[exit_layer]) + model.marian.final_logits_bias[0]
        logits[PAD] = -math.inf
        token = int(logits.argmax())
        if token == EOS:
            break
        tokens.append(token)
    return tokens[1:], exits


def mixed_threshold(model, src, measure: str) -> float:
    """A threshold at which some tokens exit early and others do not (else the comparison proves little)."""
    for threshold in (0.999, 0.99, 0.97, 0.95, 0.9, 0.8, 0.6, 0.4):
        _, details = model.generate(src, threshold=threshold, measure=measure, **GREEDY)
        layers = {layer for d in details for layer in d["exit_layers"]}
        if len(layers) >= 2 and 3 in layers:
            return threshold
    raise AssertionError(f"no threshold mixes early and full-depth exits for {measure}")


def test_kv_cache_propagation_matches_the_recompute_all_reference(calm_model):
    """Batched, cached, sub-batched early exit = the cache-free reference, token for token and layer for layer."""
    batch, _ = held_out(25, seed=9)
    for measure in MEASURES:
        threshold = mixed_threshold(calm_model, batch.src, measure)
        outputs, details = calm_model.generate(batch.src, threshold=threshold, measure=measure, **GREEDY)
        for row, out, det in zip(batch.src, outputs, details, strict=True):
            ref_tokens, ref_exits = reference_greedy(calm_model, row, threshold, measure)
            assert out == ref_tokens, (measure, threshold)
            assert det["exit_layers"] == ref_exits[: len(out)], (measure, threshold)


def test_exit_layers_of_beam_outputs_and_the_refinement_view(calm_model, tmp_path):
    batch, refs = held_out(30, seed=10)
    threshold = mixed_threshold(calm_model, batch.src, "softmax")
    options = {"threshold": threshold, "measure": "softmax", "no_repeat_ngram_size": 0}
    greedy, details = calm_model.generate(batch.src, beam=1, **options)
    # Feeding an output back token by token gives the exits its decoding took (what a beam winner reports).
    replayed = calm_model.forced_exits(batch.src, greedy, threshold, "softmax")
    assert [r["exit_layers"] for r in replayed] == [d["exit_layers"] for d in details]
    beam, _ = calm_model.generate(batch.src, beam=3, **options)
    assert exact_match(beam, refs) >= 0.85
    engine_info = {"name": "calm", "source_lang": "en", "target_lang": "de"}
    folder = save_folder(tmp_path / "calm", calm_model, word_tokenizer(), engine_info, half=False)
    engine = load_folder(folder, "cpu")
    sentence = " ".join(f"t{t}" for t in batch.src[0].tolist() if t not in (PAD, EOS))
    for beam_size in (1, 3):
        steps = list(engine.refinement_steps(sentence, beam=beam_size, **options))
        ids = calm_model.generate(batch.src[:1], beam=beam_size, **options)[0][0]
        assert len(steps) == 1 and steps[0].text == " ".join(f"t{t}" for t in ids)
        exits = calm_model.forced_exits(batch.src[:1], [ids], threshold, "softmax")[0]["exit_layers"]
        assert steps[0].token_layers == exits and len(exits) == len(ids)


def test_learn_then_test_picks_the_last_threshold_before_the_first_failure():
    n, delta, epsilon = 100, 0.2, 0.05
    # Hoeffding passes when mean risk ≤ δ − sqrt(ln(1/ε) / 2n) = 0.2 − 0.1224 = 0.0776.
    table = {1.0: 0.0, 0.9: 0.02, 0.8: 0.05, 0.7: 0.07, 0.6: 0.10, 0.5: 0.03, 0.4: 0.30}
    risks = {lam: [1.0] * round(mean * n) + [0.0] * (n - round(mean * n)) for lam, mean in table.items()}
    chosen, scan = learn_then_test(risks, delta, epsilon)
    # 0.5 passes on its own, but fixed-sequence testing stopped at 0.6.
    assert chosen == 0.7
    assert [row["threshold"] for row in scan] == [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    assert [row["passed"] for row in scan] == [True, True, True, True, False, True, False]
    assert scan[3]["p_value"] == pytest.approx(math.exp(-2 * n * 0.13**2), abs=1e-6)
    assert hoeffding_p_value(0.3, n, delta) == 1.0
    # Nothing passes (too few sentences for this δ): full depth.
    assert learn_then_test({0.9: [0.0] * 10, 0.5: [0.0] * 10}, delta, epsilon)[0] == 1.0


def test_calibrate_calm_writes_the_threshold_and_the_scan(calm_model, tmp_path):
    tokenizer = word_tokenizer()
    folder = save_folder(
        tmp_path / "calm",
        calm_model,
        tokenizer,
        {"name": "calm-synthetic", "source_lang": "en", "target_lang": "de"},
        card={"name": "calm-synthetic", "architecture": "calm", "parameters": calm_model.num_parameters()},
        half=False,
    )
    batch, refs = held_out(200, seed=21)
    valid_src, valid_tgt = tmp_path / "valid.en", tmp_path / "valid.de"
    valid_src.write_text(
        "".join(" ".join(f"t{t}" for t in row if t not in (PAD, EOS)) + "\n" for row in batch.src.tolist())
    )
    valid_tgt.write_text("".join(" ".join(f"t{t}" for t in ref) + "\n" for ref in refs))
    thresholds = "1.0,0.99,0.9,0.7,0.5,0.3,0.1,0.0"
    args = ["calibrate-calm", "--checkpoint", str(folder), "--valid-src", str(valid_src), "--valid-tgt", str(valid_tgt)]
    assert (
        cli(args + ["--thresholds", thresholds, "--delta", "0.15", "--epsilon", "0.1", "--measure", "saturation"]) == 0
    )
    card = json.loads((folder / "model_card.json").read_text())["calm_calibration"]
    scan = card["scan"]
    assert [row["threshold"] for row in scan] == [float(t) for t in thresholds.split(",")]
    assert scan[0]["risk"] == 0 and scan[0]["average_layers"] == 3  # λ = 1 is the full-depth output itself
    assert scan[-1]["average_layers"] == 1
    # The choice is the fixed-sequence outcome of the written scan, and it saves layers.
    passed = [row["threshold"] for row in scan[: next((i for i, r in enumerate(scan) if not r["passed"]), len(scan))]]
    assert card["chosen_threshold"] == (passed[-1] if passed else 1.0) < 1.0
    assert card["measure"] == "saturation" and card["delta"] == 0.15 and card["valid_set"].startswith("first 200")
    defaults = json.loads((folder / "engine.json").read_text())["decoding_defaults"]
    assert defaults["threshold"] == card["chosen_threshold"] and defaults["measure"] == "saturation"
    assert "Learn-then-Test" in (folder / "README.md").read_text()
    # The engine now decodes with the calibrated threshold unless told otherwise.
    engine = load_folder(folder, "cpu")
    sources = valid_src.read_text().splitlines()[:20]
    result = engine.translate_batch(sources)
    assert result.details == engine.translate_batch(sources, threshold=card["chosen_threshold"]).details
    assert sum(d["average_layers"] for d in result.details) / 20 < 3
    # A tighter tolerance can only keep the threshold as high or higher.
    assert cli(args + ["--thresholds", thresholds, "--delta", "0.001", "--measure", "saturation"]) == 0
    strict = json.loads((folder / "model_card.json").read_text())["calm_calibration"]
    assert strict["chosen_threshold"] == 1.0 >= card["chosen_threshold"]


def test_warm_start_stacks_the_teachers_decoder_layers(tmp_path):
    """init_from a 2-layer AR teacher into a 5-layer CALM: teacher layer j → layers j, j+2, j+4; exit 2 = teacher."""
    teacher = build(ARTransformer, dict(TINY, decoder_layers=2), seed=4).eval()
    tokenizer = word_tokenizer()
    folder = save_folder(tmp_path / "teacher", teacher, tokenizer, {"name": "teacher"}, half=False)
    student = build(CALM, dict(TINY, decoder_layers=5), seed=5)
    copied = warm_start(student, folder, tokenizer)
    own, theirs = student.state_dict(), teacher.state_dict()
    for student_layer, teacher_layer in ((0, 0), (1, 1), (2, 0), (3, 1), (4, 0)):
        for part in ("fc1.weight", "self_attn.k_proj.weight", "encoder_attn_layer_norm.bias"):
            name = f"marian.model.decoder.layers.{student_layer}.{part}"
            assert name in copied
            assert torch.equal(own[name], theirs[f"marian.model.decoder.layers.{teacher_layer}.{part}"])
    assert "marian.model.encoder.layers.1.fc2.weight" in copied and "exit_classifier.weight" not in copied
    student.eval()
    batch, _ = held_out(8, seed=2)
    with torch.no_grad():
        _, logits = student.exit_logits(batch)
        tgt = batch.tgt
        expected = teacher.marian(
            input_ids=batch.src,
            attention_mask=batch.src_mask,
            decoder_input_ids=torch.cat([torch.full_like(tgt[:, :1], PAD), tgt[:, :-1]], 1),
        ).logits
    real = batch.tgt_mask
    assert torch.allclose(logits[1][real], expected[real], atol=1e-4)


def test_half_precision_and_option_errors(calm_model):
    """CUDA serves fp16: the early-exit path (sub-batches, reused logits, confidences) runs in half precision,
    and an fp16 copy exits where the fp32 model does on nearly every token."""
    import copy

    half = copy.deepcopy(calm_model).half()
    batch, _ = held_out(20, seed=13)
    for measure in MEASURES:
        threshold = mixed_threshold(calm_model, batch.src, measure)
        got, got_details = half.generate(batch.src, threshold=threshold, measure=measure, **GREEDY)
        want, want_details = calm_model.generate(batch.src, threshold=threshold, measure=measure, **GREEDY)
        assert exact_match(got, want) >= 0.8, measure
        layers = [d["exit_layers"] for d in got_details]
        assert all(1 <= layer <= 3 for row in layers for layer in row)
    with pytest.raises(EngineError, match="measure"):
        calm_model.generate(batch.src, threshold=0.5, measure="entropy")
