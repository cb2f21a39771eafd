"""INarIG word-level autocompletion (translator/models/inarig.py) and WLAC data/evaluation (translator/wlac.py).

The synthetic task: a source of 3-5 tokens "x0" … "x19" maps token by token to a lexicon of 20 target words
spelt with 2-3 syllable pieces ("▁ka" "mi" "lo"). The words fall into five groups of four by first letter
with long shared prefixes, and a sentence holds at most one word of each group, so the typed characters plus
the source always determine the word; but not the typed characters alone: "kami" may end there or go on
to kamilo, kamira or kamisa. Getting it right needs the source, the character tokens, the subword steps
and [EOW]. The most frequent word with the typed prefix is right for about 45 % of the examples.
"""

from __future__ import annotations

import json
import math
import random

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

from translator.checkpoint import load_model_folder, save_folder
from translator.engine import EngineError
from translator.models.base import Batch, pad_sequences
from translator.models.cmlm import CMLM
from translator.models.inarig import INarIG, PieceTable, WLACEngine
from translator.registry import load_folder
from translator.tokenizer import EOS, PAD, SPECIAL_TOKENS, SubwordTokenizer
from translator.wlac import (
    CONTEXT_TYPES,
    FrequencyBaseline,
    choose_gap,
    heldout_examples,
    wlac_examples,
)

torch.set_num_threads(1)

LEXICON = [
    *("kamilo", "kamira", "kamisa", "kami", "teronu", "terofe", "tero", "tesa", "polumi", "polusi"),
    *("polu", "pona", "mosari", "mosafe", "mosa", "mori", "nukalo", "nukari", "nuka", "nute"),
]
SYLLABLES = ["ka", "mi", "lo", "ra", "sa", "te", "ro", "nu", "fe", "po", "lu", "si", "na", "mo", "ri"]
LETTERS = sorted(set("".join(SYLLABLES)))
GROUP = {w: w[0] for w in LEXICON}
TINY = dict(
    d_model=64, heads=4, ffn_dim=128, encoder_layers=2, decoder_layers=2, dropout=0.0, max_positions=64,
    max_source_tokens=16, label_smoothing=0.0, max_subwords=4,
)  # fmt: skip
CMLM_TINY = {k: v for k, v in TINY.items() if k != "max_subwords"}


def synthetic_tokenizer() -> SubwordTokenizer:
    """Unigram over the task's pieces: syllables (word-initial and continuation), single letters and "-" (the
    typed characters' tokens, and spelling of anything else), a bare "▁", source words, and "." for punctuation."""
    pieces = [(t, 0.0) for t in SPECIAL_TOKENS]
    pieces += [("▁" + s, -2.0) for s in SYLLABLES] + [(s, -2.0) for s in SYLLABLES]
    pieces += [(c, -8.0) for c in LETTERS] + [("▁", -8.0), ("-", -8.0), (".", -3.0)]
    pieces += [(f"▁x{i}", -1.0) for i in range(len(LEXICON))]
    tok = Tokenizer(models.Unigram(pieces, unk_id=2))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    return SubwordTokenizer(tok)


def make_pair(rng: random.Random) -> tuple[str, str]:
    groups = rng.sample(sorted(set(GROUP.values())), rng.randint(3, 5))
    words = [rng.choice([w for w in LEXICON if GROUP[w] == g]) for g in groups]
    return " ".join(f"x{LEXICON.index(w)}" for w in words), " ".join(words)


def make_pairs(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    pairs = [make_pair(rng) for _ in range(n)]
    return [s for s, _ in pairs], [t for _, t in pairs]


def batch_of(tokenizer, sources, targets) -> Batch:
    src = pad_sequences([ids + [EOS] for ids in tokenizer.encode(sources)], PAD)
    tgt = pad_sequences([ids + [EOS] for ids in tokenizer.encode(targets)], PAD)
    return Batch(src, tgt, PAD)


def build(config: dict | None = None, seed: int = 0) -> INarIG:
    tokenizer = synthetic_tokenizer()
    torch.manual_seed(seed)
    model = INarIG(dict(TINY, vocab_size=tokenizer.vocab_size, **(config or {})))
    model.use_tokenizer(tokenizer)
    return model


def engine_for(model: INarIG, tmp_path, name: str = "wlac") -> WLACEngine:
    """Through the checkpoint folder and the registry's loader, as the site will load it."""
    folder = save_folder(
        tmp_path / name,
        model,
        synthetic_tokenizer(),
        {"name": name, "source_lang": "en", "target_lang": "de"},
        half=False,
    )
    engine = load_folder(folder, device="cpu")
    assert isinstance(engine, WLACEngine) and engine.info.architecture == "inarig"
    return engine


@pytest.fixture(scope="module")
def trained():
    """300 AdamW steps of 48 pairs (one example each, every pass of its word taught)."""
    model = build()
    tokenizer = synthetic_tokenizer()
    rng = random.Random(0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 40))
    model.train()
    for step in range(300):
        sources, targets = zip(*(make_pair(rng) for _ in range(48)), strict=False)
        loss, stats = model.loss(batch_of(tokenizer, sources, targets), step)
        assert stats["examples"] == 48 and math.isfinite(loss.item())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
    return model.eval()


@pytest.fixture(scope="module")
def trained_engine(trained, tmp_path_factory):
    return engine_for(trained, tmp_path_factory.mktemp("inarig"))


def held_out_examples(n: int = 200):
    sources, targets = make_pairs(n, seed=999)
    return list(wlac_examples(sources, targets, seed=5))


# ------------------------------------------------------------------------------------------------ model
def test_tokenizer_spells_words_in_syllables():
    tokenizer = synthetic_tokenizer()
    assert tokenizer.tokens("kamilo x3 polu.") == ["▁ka", "mi", "lo", "▁x3", "▁po", "lu", "."]
    table = PieceTable(tokenizer)
    ids = tokenizer.encode(["kamilo x3 polu."])[0]
    assert [table.spell(ids[s:e]) for s, e in table.word_spans(ids)] == ["kamilo", None, None]  # x3, "pofe."


def test_inarig_learns_synthetic_completion(trained_engine):
    examples = held_out_examples()
    assert {e.context for e in examples} == set(CONTEXT_TYPES)
    results = [trained_engine.complete_word(e.source, e.left, e.right, e.typed) for e in examples]
    exact = sum(r.word == e.word for r, e in zip(results, examples, strict=False)) / len(examples)
    print(f"exact match {exact:.3f}")
    assert exact >= 0.9, exact
    for context in CONTEXT_TYPES:  # no context type left behind
        group = [r.word == e.word for r, e in zip(results, examples, strict=False) if e.context == context]
        assert sum(group) / len(group) >= 0.8, context
    # The frequency baseline (context-free) is far below: the typed letters alone do not decide the word.
    sources, targets = make_pairs(2000, seed=1)
    frequency = FrequencyBaseline(targets)
    assert sum(frequency.complete(e.typed) == e.word for e in examples) / len(examples) < exact - 0.3


def test_decoding_stops_at_end_of_word(trained, trained_engine):
    tokenizer = synthetic_tokenizer()
    examples = held_out_examples(60)
    for e in examples:
        got = trained_engine.complete_word(e.source, e.left, e.right, e.typed)
        if got.word == e.word:  # one pass per subword, then the [EOW] pass: nothing after the word
            assert got.passes == len(tokenizer.encode([e.word])[0]) + 1, (e, got)
    # A prefix of a longer word: "kami" ends after two pieces for x3 but goes on to "kamilo" for x0.
    assert trained_engine.complete_word("x3 x7", "", "tesa", "ka").word == "kami"
    assert trained_engine.complete_word("x0 x7", "", "tesa", "ka").word == "kamilo"

    # Mechanics, independent of training: [EOW] wins as soon as it is allowed → the word ends right there;
    # [EOW] never wins → max_subwords pieces, then the word is closed without another pass.
    src = pad_sequences([tokenizer.encode(["x0 x3"])[0] + [EOS]], PAD)
    model = build()
    model.eval()
    real = model._logits

    def eow_first(states):
        logits = real(states)
        logits[:, model.eow_id] = 1e4
        return logits

    model._logits = eow_first
    for typed in ("k", "kam", "nulu"):
        ids, reason, passes = model.complete(src, [], [], typed, max_subwords=6)
        word = model.pieces.spell(ids)
        assert reason == "" and word.startswith(typed) and passes == len(ids) + 1
        assert len(model.pieces.spell(ids[:-1]) or "") < len(typed)  # one piece fewer did not cover the typed text

    def eow_never(states):
        logits = real(states)
        logits[:, model.eow_id] = -1e4
        return logits

    model._logits = eow_never
    ids, reason, passes = model.complete(src, [], [], "k", max_subwords=3)
    assert reason == "" and len(ids) == 3 and passes == 3


def test_suggestion_never_contradicts_typed_prefix(trained_engine, tmp_path):
    """Untrained or trained, with sensible or misleading typed characters: the word starts with them."""
    untrained = engine_for(build(seed=3), tmp_path, "untrained")
    rng = random.Random(7)
    cases = [(e.source, e.left, e.right, e.typed) for e in held_out_examples(40)]
    # Typed letters that do not match the source's words at all (the model must still obey them).
    cases += [("x0 x3", "", "", typed) for typed in ("t", "mo", "nul", "sa", "ri", "fefe", "kamilol", "lu-ka")]
    cases += [("x5", "", "", "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 4)))) for _ in range(30)]
    for engine in (trained_engine, untrained):
        answered = 0
        for source, left, right, typed in cases:
            got = engine.complete_word(source, left, right, typed)
            if got.word:
                assert got.word.startswith(typed) and len(got.word) >= len(typed) and not got.reason, (typed, got)
                answered += 1
            else:  # only when no spelling fits: random letters need more than max_subwords (4) pieces
                assert "at most 4 subwords" in got.reason, (typed, got)
                assert engine.model.pieces.allowed(typed, "", True, 4).numel() == 0
        assert answered >= 0.8 * len(cases)


def test_bad_input_gets_a_clear_answer(trained_engine):
    engine = trained_engine
    for source, typed, message in (
        ("", "k", "empty source"),
        ("   ", "k", "empty source"),
        ("x0", "", "at least one character"),
        ("x0", "ka mi", "no spaces"),
        ("x0", "k" * 60, "at most"),
        ("x0 " * 8000, "k", "characters"),
    ):
        with pytest.raises(EngineError, match=message):
            engine.complete_word(source, "", "", typed)
    with pytest.raises(EngineError, match="must be text"):
        engine.complete_word("x0", None, "", "k")
    with pytest.raises(EngineError, match="does not translate"):
        engine.translate_batch(["x0 x1"])
    with pytest.raises(EngineError, match="does not accept"):
        engine.complete_word("x0", "", "", "k", beam=4)
    # Characters no word can hold: an empty suggestion with the reason, not an error.
    unknown = engine.complete_word("x0 x3", "", "", "kü")
    assert unknown.word == "" and "unknown character" in unknown.reason and "ü" in unknown.reason
    digits = engine.complete_word("x0 x3", "", "", "k9")
    assert digits.word == "" and "letters" in digits.reason
    too_long = engine.complete_word("x0 x3", "", "", "kamilokamilo", max_subwords=2)
    assert too_long.word == "" and "at most 2 subwords" in too_long.reason and too_long.passes == 0
    # A 5,000-character context (and source) is cut to the model's limits, keeping the words next to the gap.
    left = " ".join(["teri"] * 1000)
    long = engine.complete_word("x0 x3 " * 900, left, left, "ka")
    assert long.truncated and long.word.startswith("ka")
    assert not engine.complete_word("x0 x3", "", "teri", "ka").truncated
    # Unknown characters in the source or context are <unk> tokens, as for translation: still an answer.
    assert engine.complete_word("x0 ü x3", "€", "teri", "ka").word.startswith("ka")


def test_round_trip_and_int8_keep_suggestions(trained, trained_engine, tmp_path):
    from translator.quantize import quantize_int8

    examples = held_out_examples(30)
    expected = [trained_engine.complete_word(e.source, e.left, e.right, e.typed).word for e in examples]
    folder = save_folder(tmp_path / "copy", trained, synthetic_tokenizer(), {"name": "copy"}, half=False)
    loaded, _ = load_model_folder(folder)
    assert loaded.config == trained.config
    int8 = WLACEngine(quantize_int8(loaded), synthetic_tokenizer(), trained_engine.info, torch.device("cpu"))
    got = [int8.complete_word(e.source, e.left, e.right, e.typed).word for e in examples]
    assert sum(a == b for a, b in zip(got, expected, strict=False)) >= 0.9 * len(examples)


# ------------------------------------------------------------------------------------------------- data
def test_example_generation_is_deterministic_and_covers_the_four_contexts():
    sources, targets = make_pairs(80, seed=3)
    first = list(wlac_examples(sources, targets, seed=11))
    assert first == list(wlac_examples(sources, targets, seed=11))
    assert first != list(wlac_examples(sources, targets, seed=12))
    assert [e.context for e in first[:8]] == list(CONTEXT_TYPES) * 2  # balanced: the types cycle over the pairs
    for e, target in zip(first, targets, strict=False):
        words = target.split()
        assert e.word in words and e.typed and e.word.startswith(e.typed) and len(e.typed) < len(e.word)
        assert (e.left != "") == (e.context in ("left", "both")) and (e.right != "") == (e.context in ("right", "both"))
        position = words.index(e.word)  # words are unique in a sentence of this task
        assert e.left in ("", " ".join(words[:position])) and e.right in ("", " ".join(words[position + 1 :]))
    assert {len(e.typed) for e in first} >= {1, 2, 3}
    # A pair's example never depends on the pairs before it.
    assert list(wlac_examples(sources[40:], targets[40:], seed=11))[0].word in targets[40].split()
    # Unbalanced draws still reach all four types; a word that cannot take a type falls back to one it can.
    drawn = {choose_gap(random.Random(k), ["kami", "karo", "tesa"])[1] for k in range(40)}
    assert drawn == set(CONTEXT_TYPES)
    assert choose_gap(random.Random(0), ["kami"], "both")[1] == "none"
    assert choose_gap(random.Random(0), ["x3", "7", "a"]) is None  # nothing completable


def test_training_examples_are_seeded_by_step_and_cover_the_four_contexts():
    model = build()
    tokenizer = synthetic_tokenizer()
    sources, targets = make_pairs(64, seed=4)
    batch = batch_of(tokenizer, sources, targets)
    first = model.training_examples(batch.tgt, step=3)
    assert first == model.training_examples(batch.tgt, step=3) and first != model.training_examples(batch.tgt, step=4)
    kinds = set()
    for row, left, typed, word, right in first:
        spelled = model.pieces.spell(word)
        assert spelled in targets[row].split()
        assert "".join(tokenizer.id_to_token(i) for i in typed) == spelled[: len(typed)]
        ids = tokenizer.encode([targets[row]])[0]
        start = next(k for k in range(len(ids)) if ids[k : k + len(word)] == word)
        assert left in ([], ids[:start]) and right in ([], ids[start + len(word) :])
        kinds.add((bool(left), bool(right)))
    assert kinds == {(False, False), (True, False), (False, True), (True, True)}


def test_heldout_generator_refuses_training_pairs(tmp_path):
    sources, targets = make_pairs(20, seed=8)
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.en").write_text("".join(s + "\n" for s in sources))
        (tmp_path / f"{split}.de").write_text("".join(t + "\n" for t in targets))
    for split in ("train", "valid"):
        with pytest.raises(ValueError, match="held-out test split"):
            heldout_examples(tmp_path / f"{split}.en", tmp_path / f"{split}.de")
    # Refused by name before any file is read: a missing training file is still "refused", not "not found".
    with pytest.raises(ValueError, match="held-out test split"):
        heldout_examples(tmp_path / "test.en", tmp_path / "nowhere" / "train.de")
    examples, info = heldout_examples(tmp_path / "test.en", tmp_path / "test.de", seed=2)
    assert examples == heldout_examples(tmp_path / "test.en", tmp_path / "test.de", seed=2)[0]
    assert info["examples"] == 20 and info["pairs_dropped_as_training_targets"] == 0
    # Test pairs whose target also occurs in training are dropped and counted.
    _, info = heldout_examples(tmp_path / "test.en", tmp_path / "test.de", seed=2, training_targets=targets[:5])
    assert info["pairs_dropped_as_training_targets"] == len(set(targets[:5])) and info["examples"] == 15


def test_frequency_baseline_picks_the_most_frequent_word_with_the_prefix():
    frequency = FrequencyBaseline(["kami kami karo.", "kamilo karo karo, kami", "x3 7"])
    assert frequency.complete("k") == "kami"  # 3 (the "kami," is not a word) vs karo 2
    assert frequency.complete("kar") == "karo" and frequency.complete("kamil") == "kamilo"
    assert frequency.complete("z") == ""


# ------------------------------------------------------------------------------------- evaluate, train
def test_evaluate_wlac_writes_both_baselines(trained_engine, tmp_path):
    from translator.cli import main

    sources, targets = make_pairs(40, seed=21)
    (tmp_path / "test.en").write_text("".join(s + "\n" for s in sources))
    (tmp_path / "test.de").write_text("".join(t + "\n" for t in targets))
    _, train_targets = make_pairs(500, seed=22)
    (tmp_path / "train.de").write_text("".join(t + "\n" for t in train_targets))
    tokenizer = synthetic_tokenizer()
    torch.manual_seed(0)
    cmlm = CMLM(dict(CMLM_TINY, vocab_size=tokenizer.vocab_size))  # untrained: the report's shape is what counts
    save_folder(tmp_path / "cmlm", cmlm, tokenizer, {"name": "cmlm"}, half=False)
    folder = tmp_path / "inarig"
    save_folder(
        folder,
        trained_engine.model,
        tokenizer,
        {"name": "inarig", "source_lang": "en", "target_lang": "de"},
        half=False,
    )
    out = tmp_path / "report.json"
    args = ["--checkpoint", str(folder), "--pairs-src", str(tmp_path / "test.en"), "--pairs-tgt"]
    args += [str(tmp_path / "test.de"), "--train-tgt", str(tmp_path / "train.de"), "--cmlm", str(tmp_path / "cmlm")]
    assert main(["evaluate-wlac", *args, "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["systems"]) == {"inarig", "frequency", "cmlm"}
    n = report["test_set"]["examples"]  # test pairs whose target also occurs in train.de are left out
    assert n == len(report["examples"]) == 40 - report["test_set"]["pairs_dropped_as_training_targets"] >= 30
    for name, result in report["systems"].items():
        assert set(result["by_context"]) == set(CONTEXT_TYPES), name
        assert sum(g["examples"] for g in result["by_typed_length"].values()) == n, name
        assert result["latency_ms"]["p50"] <= result["latency_ms"]["p95"] and result["latency_ms"]["suggestions"] == n
        assert result["prefix_violations"] == 0 and len(result["predictions"]) == n, name
    inarig, frequency = report["systems"]["inarig"]["accuracy"], report["systems"]["frequency"]["accuracy"]
    assert inarig >= frequency + 15 and report["bars"]["overall"]["inarig_ge_frequency_plus_15"] is True
    assert isinstance(report["bars"]["overall"]["inarig_ge_cmlm"], bool)
    # The same run without a CMLM: no CMLM entry, and the bar says "not measured".
    assert main(["evaluate-wlac", *args[:-2], "--out", str(out), "--limit", "8"]) == 0
    report = json.loads(out.read_text())
    assert set(report["systems"]) == {"inarig", "frequency"} and report["bars"]["overall"]["inarig_ge_cmlm"] is None


def test_train_py_warm_starts_inarig_from_a_nar_checkpoint(tmp_path, capsys):
    """train.py with architecture inarig: init_from a CMLM copies its backbone; validation is WLAC accuracy."""
    import yaml

    from translator.train import TrainConfig, train

    tokenizer = synthetic_tokenizer()
    tokenizer.save(tmp_path)
    for split, n, seed in (("train", 300, 31), ("valid", 20, 32)):
        sources, targets = make_pairs(n, seed)
        (tmp_path / f"{split}.en").write_text("".join(s + "\n" for s in sources))
        (tmp_path / f"{split}.de").write_text("".join(t + "\n" for t in targets))
    model_config = CMLM_TINY
    torch.manual_seed(0)
    cmlm = CMLM(dict(model_config, vocab_size=tokenizer.vocab_size))
    save_folder(tmp_path / "cmlm", cmlm, tokenizer, {"name": "cmlm"}, half=False)
    config = dict(
        name="wlac", architecture="inarig", source_lang="en", target_lang="de", train_src=str(tmp_path / "train.en"),
        train_tgt=str(tmp_path / "train.de"), valid_src=str(tmp_path / "valid.en"), valid_tgt=str(tmp_path / "valid.de"),
        tokenizer=str(tmp_path), init_from=str(tmp_path / "cmlm"), runs_dir=str(tmp_path / "runs"), model=model_config,
        max_batch_tokens=400, warmup_steps=5, max_steps=12, validate_every=6,
    )  # fmt: skip
    (tmp_path / "inarig.yaml").write_text(yaml.safe_dump(config))
    state = train(TrainConfig.load(tmp_path / "inarig.yaml"))
    copied = sum(
        1
        for name in INarIG(dict(model_config, vocab_size=tokenizer.vocab_size)).state_dict()
        if name != "instruction.weight"
    )
    assert f"{copied} tensors copied" in capsys.readouterr().out  # every backbone tensor, none else
    log = [json.loads(line) for line in (tmp_path / "runs" / "wlac" / "log.jsonl").read_text().splitlines()]
    scores = [r["valid_wlac_accuracy"] for r in log if "valid_wlac_accuracy" in r]
    assert len(scores) == 2 and state["best_bleu"] == max(scores)


def test_warm_start_from_the_shipped_cmlm_copies_the_backbone():
    from pathlib import Path

    from translator.train import warm_start

    folder = Path(__file__).resolve().parents[2] / "checkpoints" / "cmlm-en-de"
    if not (folder / "model.safetensors").exists():
        pytest.skip("shipped cmlm-en-de checkpoint not present")
    config = json.loads((folder / "config.json").read_text())
    tokenizer = SubwordTokenizer.load(folder)
    model = INarIG({k: v for k, v in config.items() if k != "architecture"})
    copied = warm_start(model, folder, tokenizer)
    assert sorted(copied) == sorted(n for n in model.state_dict() if n != "instruction.weight")
    cmlm, _ = load_model_folder(folder)
    assert torch.equal(model.backbone.decoder[2].ffn.up.weight, cmlm.backbone.decoder[2].ffn.up.weight.float())
