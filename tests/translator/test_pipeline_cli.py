"""The library's command line end to end on a toy task: train → resume → export → registry →
distill (resumable) → evaluate JSON. Real training, real decoding, no mocks."""

import json

import pytest
import yaml

from translator.cli import main as cli
from translator.engine import EngineError

from .toy_task import toy_config, write_toy_corpus


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    paths = write_toy_corpus(folder / "data")
    config = toy_config(folder, paths, validate_every=150)
    assert cli(["train", "--config", str(config), "--set", "max_steps=300"]) == 0
    # Running again with a higher step budget resumes from last.pt instead of starting over.
    assert cli(["train", "--config", str(config)]) == 0
    ckpt = folder / "checkpoints" / "toy-ar"
    assert (
        cli(
            [
                "export",
                "--run",
                str(folder / "runs" / "toy-transformer"),
                "--out",
                str(ckpt),
                "--average",
                "2",
                "--name",
                "toy-ar",
            ]
        )
        == 0
    )
    return folder, paths, ckpt


def log_records(folder):
    path = folder / "runs" / "toy-transformer" / "log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def evaluate_on_toy(paths, out, systems, latency: int, bootstrap: int) -> int:
    """One `evaluate` CLI run of the given systems on the toy valid split."""
    args = ["evaluate"] + [arg for system in systems for arg in ("--system", system)]
    return cli(
        args
        + [
            "--test-set",
            f"toy={paths['valid.en']},{paths['valid.de']}",
            "--latency-sentences",
            str(latency),
            "--bootstrap",
            str(bootstrap),
            "--out",
            str(out),
        ]
    )


def test_training_resumes_and_learns(trained, capsys):
    folder, _, _ = trained
    records = log_records(folder)
    steps = [r["step"] for r in records if "loss" in r]
    assert steps == sorted(steps) and steps[-1] == 600  # one continuous run: no step trained twice
    assert len(steps) == len(set(steps))
    bleus = [r["valid_bleu"] for r in records if "valid_bleu" in r]
    assert bleus[-1] > 90, bleus  # the toy mapping is learned almost perfectly
    assert all(r["tgt_tokens_per_s"] > 0 for r in records if "tgt_tokens_per_s" in r)


def test_exported_folder_is_complete_and_registered(trained, monkeypatch):
    folder, _, ckpt = trained
    for name in ("config.json", "model.safetensors", "tokenizer.json", "engine.json", "model_card.json"):
        assert (ckpt / name).exists(), name
    card = json.loads((ckpt / "model_card.json").read_text())
    assert card["training"]["steps"] == 600 and card["training"]["median_target_tokens_per_s"] > 0
    assert card["training"]["target_tokens"] > 0 and card["training"]["epochs_seen"] > 1
    monkeypatch.setenv("NMT_CHECKPOINTS_DIR", str(ckpt.parent))
    from translator import registry

    assert "toy-ar" in [i.name for i in registry.list_engines()]
    engine = registry.load_engine("toy-ar")
    result = engine.translate_batch(["alpha beta gamma", "", "kappa iota eta delta"], beam=1)
    assert result.outputs == ["ALPHA BETA GAMMA", "", "KAPPA IOTA ETA DELTA"]
    assert result.model_seconds > 0


def test_distill_writes_aligned_outputs_and_resumes(trained):
    folder, paths, ckpt = trained
    prefix = folder / "kd" / "valid"
    assert (
        cli(
            [
                "distill",
                "--teacher",
                f"{ckpt}:beam=1,no_repeat_ngram_size=0",
                "--src",
                str(paths["valid.en"]),
                "--out-prefix",
                str(prefix),
            ]
        )
        == 0
    )
    full = (folder / "kd" / "valid.de").read_text().splitlines()
    sources = paths["valid.en"].read_text().splitlines()
    assert len(full) == len(sources)
    assert sum(out == src.upper() for out, src in zip(full, sources, strict=False)) >= 0.75 * len(
        sources
    )  # last-word slips on 7-word inputs are allowed
    # Simulate a kill mid-write: a cut-off file resumes after its last complete line.
    text = (folder / "kd" / "valid.de").read_text()
    (folder / "kd" / "valid.de").write_text(text[: len(text) // 2 + 3])
    assert (
        cli(
            [
                "distill",
                "--teacher",
                f"{ckpt}:beam=1,no_repeat_ngram_size=0",
                "--src",
                str(paths["valid.en"]),
                "--out-prefix",
                str(prefix),
            ]
        )
        == 0
    )
    assert (folder / "kd" / "valid.de").read_text().splitlines() == full
    meta = json.loads((folder / "kd" / "valid.meta.json").read_text())
    assert 0 < meta["resumed_at"] < len(sources)


def test_evaluate_writes_protocol_json(trained):
    folder, paths, ckpt = trained
    out = folder / "eval.json"
    assert evaluate_on_toy(paths, out, [f"{ckpt}:beam=4", f"{ckpt}:beam=1"], latency=10, bootstrap=100) == 0
    report = json.loads(out.read_text())
    assert report["environment"]["threads"] == 1 and report["environment"]["torch"]
    assert report["test_sets"]["toy"]["sentences"] == 60
    assert report["baseline"] == "toy-ar beam=4"
    for system in report["systems"]:
        r = system["results"]["toy"]
        assert r["bleu"] > 90 and r["bleu_signature"].startswith("nrefs:1")
        assert r["bleu_ci95"][0] <= r["bleu"] + 1e-6 <= r["bleu_ci95"][1] + 2
        assert r["latency_ms"]["p50"] > 0 and r["latency_ms"]["p95"] >= r["latency_ms"]["p50"]
        assert set(r["throughput"]) == {"16", "64"}
        assert "toy-ar beam=4" in r["speedup"]
    assert report["systems"][0]["results"]["toy"]["bleu_p_vs_baseline"] is None
    assert report["systems"][1]["results"]["toy"]["bleu_p_vs_baseline"] is not None
    # The model card takes its test scores from the report, never typed in by hand.
    assert cli(["card", "--checkpoint", str(ckpt), "--report", str(out), "--data", "toy word mapping"]) == 0
    card = json.loads((ckpt / "model_card.json").read_text())
    assert [row["system"] for row in card["test_scores"]] == ["toy-ar beam=4", "toy-ar beam=1"]
    assert card["test_scores"][0]["bleu"] == report["systems"][0]["results"]["toy"]["bleu"]
    readme = (ckpt / "README.md").read_text()
    assert "toy word mapping" in readme and str(card["test_scores"][0]["bleu"]) in readme


def test_int8_precision_is_a_load_option_measured_beside_fp32(trained):
    folder, paths, ckpt = trained
    out = folder / "eval-int8.json"
    assert (
        evaluate_on_toy(paths, out, [f"{ckpt}:beam=1", f"{ckpt}:beam=1,precision=int8"], latency=5, bootstrap=50) == 0
    )
    fp32, int8 = json.loads(out.read_text())["systems"]
    assert (fp32["label"], int8["label"]) == ("toy-ar beam=1", "toy-ar beam=1 int8")
    assert int8["precision"] == "int8" and int8["decoding"] == {"beam": 1}  # not passed on as a decoding option
    assert int8["results"]["toy"]["bleu"] > 90
    assert int8["model"]["size_mb"] < 0.6 * fp32["model"]["size_mb"]  # int8 weights, counted at their real size
    assert int8["model"]["parameters"] == fp32["model"]["parameters"]

    from translator.registry import load_engine, load_folder

    engine = load_folder(ckpt, "cpu", "int8")
    assert "quantized" in type(engine.model.marian.model.encoder.layers[0].fc1).__module__
    with pytest.raises(EngineError, match="precision 'fp8'"):
        load_folder(ckpt, "cpu", "fp8")
    with pytest.raises(EngineError, match="no precision option"):
        load_engine("bergamot-en-pt", "cpu", "int8")


def test_corrupt_checkpoint_names_the_file(trained, tmp_path):
    import shutil

    from translator.registry import load_folder

    _, _, ckpt = trained
    broken = tmp_path / "broken"
    shutil.copytree(ckpt, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(EngineError, match="model.safetensors"):
        load_folder(broken)
    (broken / "config.json").unlink()
    with pytest.raises(EngineError, match="config.json"):
        load_folder(broken)
    with pytest.raises(EngineError, match="does not exist|engine.json"):
        load_folder(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def ctc_student(trained):
    """AR teacher → distilled corpus → CTC-GLAT student, all from the CLI."""
    folder, paths, ckpt = trained
    prefix = folder / "kd" / "train"
    assert (
        cli(
            [
                "distill",
                "--teacher",
                f"{ckpt}:beam=1,no_repeat_ngram_size=0",
                "--src",
                str(paths["train.en"]),
                "--out-prefix",
                str(prefix),
            ]
        )
        == 0
    )
    config = toy_config(
        folder,
        {**paths, "train.en": prefix.with_suffix(".en"), "train.de": prefix.with_suffix(".de")},
        architecture="ctc-glat",
        lr=0.002,
        max_steps=300,
        validate_every=150,
    )
    assert cli(["train", "--config", str(config)]) == 0
    student = folder / "checkpoints" / "toy-ctc"
    assert (
        cli(
            [
                "export",
                "--run",
                str(folder / "runs" / "toy-ctc-glat"),
                "--out",
                str(student),
                "--average",
                "1",
                "--name",
                "toy-ctc",
            ]
        )
        == 0
    )
    return student


def test_distilled_nar_student_end_to_end(trained, ctc_student):
    """The whole recipe from the CLI: AR teacher → distilled corpus → CTC-GLAT student → evaluation."""
    folder, paths, ckpt = trained
    student = ctc_student
    assert json.loads((student / "engine.json").read_text())["family"] == "NAR"
    out = folder / "eval-student.json"
    assert (
        cli(
            [
                "evaluate",
                "--system",
                f"{ckpt}:beam=1",
                "--system",
                str(student),
                "--test-set",
                f"toy={paths['valid.en']},{paths['valid.de']}",
                "--latency-sentences",
                "10",
                "--bootstrap",
                "100",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    nar = report["systems"][1]["results"]["toy"]
    assert nar["bleu"] > 80, nar["bleu"]
    assert 0 <= nar["repeated_token_rate"] < 0.5
    assert nar["speedup"]["toy-ar beam=1"]["latency_p50"] > 0


def test_tune_decoding_writes_the_best_validation_value_as_the_default(trained, ctc_student, tmp_path):
    """tune-decoding scores each value on the validation set, keeps the best, and the engine then uses it."""
    import shutil

    from translator.registry import load_folder

    _, paths, _ = trained
    student = tmp_path / "toy-ctc"
    shutil.copytree(ctc_student, student)
    # A huge blank penalty forbids blanks, so repeated letters merge: it must lose to no penalty.
    assert (
        cli(
            [
                "tune-decoding",
                "--checkpoint",
                str(student),
                "--option",
                "blank_penalty",
                "--values",
                "1000,0",
                "--valid-src",
                str(paths["valid.en"]),
                "--valid-tgt",
                str(paths["valid.de"]),
            ]
        )
        == 0
    )
    card = json.loads((student / "model_card.json").read_text())
    tuned = card["decoding_tuned"]["blank_penalty"]
    scores = tuned["validation_bleu_by_value"]
    assert set(scores) == {"1000", "0"} and scores["0"]["bleu"] > scores["1000"]["bleu"], scores
    assert tuned["chosen"] == 0
    assert json.loads((student / "engine.json").read_text())["decoding_defaults"]["blank_penalty"] == 0
    assert json.loads((student / "config.json").read_text())["blank_penalty"] == 0
    assert "Decoding default blank_penalty=0" in (student / "README.md").read_text()
    # With only the bad value offered, it becomes the default: the engine decodes with it unless told otherwise.
    assert (
        cli(
            [
                "tune-decoding",
                "--checkpoint",
                str(student),
                "--option",
                "blank_penalty",
                "--values",
                "1000",
                "--valid-src",
                str(paths["valid.en"]),
                "--valid-tgt",
                str(paths["valid.de"]),
            ]
        )
        == 0
    )
    engine = load_folder(student)
    assert engine.info.decoding_defaults["blank_penalty"] == 1000
    sources = paths["valid.en"].read_text().splitlines()[:20]
    assert engine.translate_batch(sources).outputs == engine.translate_batch(sources, blank_penalty=1000).outputs
    assert engine.translate_batch(sources).outputs != engine.translate_batch(sources, blank_penalty=0).outputs
    with pytest.raises(EngineError, match="no decoding option"):
        cli(
            [
                "tune-decoding",
                "--checkpoint",
                str(student),
                "--option",
                "beam",
                "--values",
                "1,2",
                "--valid-src",
                str(paths["valid.en"]),
                "--valid-tgt",
                str(paths["valid.de"]),
            ]
        )
    with pytest.raises(SystemExit):
        cli(
            [
                "tune-decoding",
                "--checkpoint",
                str(student),
                "--option",
                "blank_penalty",
                "--values",
                "a,b",
                "--valid-src",
                str(paths["valid.en"]),
                "--valid-tgt",
                str(paths["valid.de"]),
            ]
        )


def test_unknown_characters_and_mixed_scripts_do_not_crash(trained, monkeypatch):
    _, _, ckpt = trained
    from translator.registry import load_folder

    engine = load_folder(ckpt)
    inputs = ["😀 漢字 Привет alpha beta gamma", "\u200b\u0000 ", "alpha\tbeta\ngamma", "alpha " * 500]
    result = engine.translate_batch(inputs, beam=2)
    assert len(result.outputs) == 4 and all(isinstance(o, str) for o in result.outputs)
    assert result.details[3]["truncated"] is True


def test_distill_shards_concatenate_to_the_unsharded_output(trained):
    folder, paths, ckpt = trained
    teacher = f"{ckpt}:beam=2,no_repeat_ngram_size=0"
    whole, shards = folder / "kd-shards" / "whole", folder / "kd-shards" / "part"
    assert cli(["distill", "--teacher", teacher, "--src", str(paths["valid.en"]), "--out-prefix", str(whole)]) == 0
    for k in (1, 2, 3):
        assert (
            cli(
                [
                    "distill",
                    "--teacher",
                    teacher,
                    "--src",
                    str(paths["valid.en"]),
                    "--out-prefix",
                    str(shards),
                    "--shard",
                    f"{k}/3",
                ]
            )
            == 0
        )
    for lang in ("en", "de"):
        joined = "".join((folder / "kd-shards" / f"part.shard-{k}-of-3.{lang}").read_text() for k in (1, 2, 3))
        assert joined == (folder / "kd-shards" / f"whole.{lang}").read_text()


def test_distill_with_an_int8_teacher(trained):
    """precision=int8 loads the teacher with int8 weights (a load option, not a decoding option) and the run says so."""
    folder, paths, ckpt = trained
    prefix = folder / "kd-int8" / "valid"
    assert (
        cli(
            [
                "distill",
                "--teacher",
                f"{ckpt}:beam=1,no_repeat_ngram_size=0,precision=int8",
                "--src",
                str(paths["valid.en"]),
                "--out-prefix",
                str(prefix),
            ]
        )
        == 0
    )
    meta = json.loads((folder / "kd-int8" / "valid.meta.json").read_text())
    assert meta["precision"] == "int8" and "precision" not in meta["options"]
    outputs = (folder / "kd-int8" / "valid.de").read_text().splitlines()
    sources = paths["valid.en"].read_text().splitlines()
    assert len(outputs) == len(sources)
    assert sum(out == src.upper() for out, src in zip(outputs, sources, strict=False)) >= 0.75 * len(sources)
    with pytest.raises(EngineError, match="precision"):
        cli(
            [
                "distill",
                "--teacher",
                f"{ckpt}:beam=1,precision=int4",
                "--src",
                str(paths["valid.en"]),
                "--out-prefix",
                str(folder / "kd-int4" / "valid"),
            ]
        )


def test_warm_start_copies_what_fits_and_training_starts_from_it(trained):
    import torch

    from translator.checkpoint import load_model_folder, model_class_for
    from translator.train import warm_start

    folder, paths, ckpt = trained
    teacher, tokenizer = load_model_folder(ckpt)
    teacher_weights = teacher.state_dict()
    shape = {"d_model": 64, "heads": 2, "ffn_dim": 128, "dropout": 0.0, "vocab_size": tokenizer.vocab_size}
    # A NAR student takes the joint embedding matrix and nothing else.
    cmlm = model_class_for("cmlm")({**shape, "encoder_layers": 2, "decoder_layers": 1})
    assert warm_start(cmlm, ckpt, tokenizer) == ["backbone.embed.weight"]
    assert torch.equal(cmlm.state_dict()["backbone.embed.weight"], teacher_weights["marian.model.shared.weight"])
    # With the Marian encoder (the teacher's module) a NAR student takes the whole encoder: same function.
    ctc = model_class_for("ctc-glat")({**shape, "encoder_layers": 2, "decoder_layers": 1, "encoder_type": "marian"})
    copied = warm_start(ctc, ckpt, tokenizer)
    assert "backbone.marian_encoder.layers.1.fc1.weight" in copied and "backbone.embed.weight" in copied
    src = torch.tensor([tokenizer.encode(["alpha beta gamma"])[0] + [tokenizer.eos_id]])
    ctc.eval()
    ours = ctc.backbone.encode(src, src.ne(tokenizer.pad_id))
    theirs = teacher.marian.model.encoder(
        input_ids=src, attention_mask=src.ne(tokenizer.pad_id).long()
    ).last_hidden_state
    assert torch.allclose(ours, theirs, atol=1e-5)
    # ... and the tied embedding survives the fp16 checkpoint round trip (one tensor, two names).
    from translator.checkpoint import save_folder

    save_folder(folder / "ctc-marian", ctc, tokenizer, {"name": "ctc-marian", "source_lang": "en", "target_lang": "de"})
    reloaded, _ = load_model_folder(folder / "ctc-marian")
    assert reloaded.backbone.marian_encoder.embed_tokens is reloaded.backbone.embed
    assert torch.allclose(reloaded.backbone.encode(src, src.ne(0)), ours, atol=0.05)  # fp16 weights
    # An AR student with a deeper encoder takes every tensor whose name and shape match.
    deeper = model_class_for("transformer")({**shape, "encoder_layers": 3, "decoder_layers": 1})
    copied = warm_start(deeper, ckpt, tokenizer)
    assert "marian.model.encoder.layers.1.fc1.weight" in copied
    assert not any(".encoder.layers.2." in name for name in copied)
    # Through the CLI: warm-started from the trained toy model, validation is near perfect at once.
    config = toy_config(
        folder,
        paths,
        name="toy-warm",
        init_from=str(ckpt),
        tokenizer=str(ckpt),
        max_steps=20,
        validate_every=20,
        lr=1e-5,
        autocast="bf16",
    )
    assert cli(["train", "--config", str(config)]) == 0
    records = [json.loads(line) for line in (folder / "runs" / "toy-warm" / "log.jsonl").read_text().splitlines()]
    assert [r["valid_bleu"] for r in records if "valid_bleu" in r][0] > 90
    # The run records the precision it really used (bf16 only where the CPU has bf16 instructions).
    from translator.train import cpu_has_native_bf16

    used = yaml.safe_load((folder / "runs" / "toy-warm" / "config.yaml").read_text())["autocast"]
    assert used == ("bf16" if cpu_has_native_bf16() else "")
    # Exported over the folder it started from, the card counts the earlier run's steps and minutes too.
    earlier = json.loads((ckpt / "model_card.json").read_text())["training"]
    continued = folder / "checkpoints" / "toy-warm"
    assert cli(["export", "--run", str(folder / "runs" / "toy-warm"), "--out", str(continued)]) == 0
    card = json.loads((continued / "model_card.json").read_text())
    assert card["training"]["steps"] == 20
    assert "warm_started_from" not in card
    assert card["continued_from"] == {
        "checkpoint": str(ckpt),
        "steps": earlier["steps"],
        "target_tokens": earlier["target_tokens"],
        "training_minutes": earlier["training_minutes"],
        "minutes_by_device": {"CPU": earlier["training_minutes"]},
    }
    assert f"{earlier['steps']} earlier steps" in (continued / "README.md").read_text()
    # A student warm-started from a different model (here the deeper AR copies layers of the teacher) is not a
    # continuation: only same architecture and size count.
    from translator.export import earlier_training

    assert earlier_training({"init_from": str(ckpt), "architecture": "transformer"}, deeper.num_parameters()) is None


def test_autocast_setting_is_checked_and_applied():
    import torch

    from translator.train import autocast_context

    a = torch.randn(4, 8)
    with autocast_context("bf16", torch.device("cpu")):
        assert torch.mm(a, a.T).dtype == torch.bfloat16
    with autocast_context("", torch.device("cpu")):
        assert torch.mm(a, a.T).dtype == torch.float32
    with pytest.raises(ValueError, match="fp16"):
        autocast_context("fp16", torch.device("cpu"))


def test_learning_rate_schedules_warm_up_then_decay_their_own_way():
    """inverse_sqrt keeps decaying slowly; linear reaches 0 exactly at max_steps (a fixed step budget)."""
    from translator.train import TrainConfig, learning_rate

    common = dict(
        name="x",
        architecture="cmlm",
        source_lang="en",
        target_lang="de",
        valid_src="v.en",
        valid_tgt="v.de",
        lr=1e-3,
        warmup_steps=100,
        max_steps=1100,
    )
    inverse_sqrt = TrainConfig(**common)
    linear = TrainConfig(**common, lr_schedule="linear")
    for config in (inverse_sqrt, linear):
        assert learning_rate(50, config) == pytest.approx(5e-4)  # the same warm-up
        assert learning_rate(100, config) == pytest.approx(1e-3)
    assert learning_rate(400, inverse_sqrt) == pytest.approx(5e-4)
    assert learning_rate(1100, inverse_sqrt) == pytest.approx(1e-3 * (100 / 1100) ** 0.5)
    assert learning_rate(600, linear) == pytest.approx(5e-4)  # halfway from the warm-up's end to max_steps
    assert learning_rate(1100, linear) == 0.0
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainConfig(**common, lr_schedule="cosine")


def test_bf16_autocast_falls_back_to_fp32_on_a_cpu_without_bf16(monkeypatch, capsys):
    import torch

    from translator import train

    cpu = torch.device("cpu")
    monkeypatch.setattr(train, "cpu_has_native_bf16", lambda: False)
    assert train.effective_autocast("bf16", cpu) == ""
    assert "fp32" in capsys.readouterr().out
    assert train.effective_autocast("", cpu) == ""
    monkeypatch.setattr(train, "cpu_has_native_bf16", lambda: True)
    assert train.effective_autocast("bf16", cpu) == "bf16"
    assert capsys.readouterr().out == ""


def test_warm_start_from_another_vocabulary_maps_rows_piece_by_piece(trained):
    """A teacher of another pair (another tokenizer) warm-starts a student: each piece keeps its trained
    row wherever the new vocabulary puts it, so the student translates at once; a blind copy would not."""
    import torch

    from translator.checkpoint import load_model_folder
    from translator.tokenizer import SubwordTokenizer
    from translator.vocab_transfer import same_vocabulary, vocabulary_map

    folder, paths, ckpt = trained
    teacher, teacher_tok = load_model_folder(ckpt)
    # The "new pair": the same mapping plus words the teacher never saw, so the unigram vocabulary differs.
    new_pair = write_toy_corpus(folder / "data-new", seed=7)
    extra = "".join(f"omega{w} sigma {w}\nOMEGA{w.upper()} SIGMA {w.upper()}\n" for w in ("alpha", "beta", "eta"))
    text = folder / "data-new" / "tokenizer.txt"
    text.write_text(new_pair["train.en"].read_text() + new_pair["train.de"].read_text() + extra * 50)
    student_tok = SubwordTokenizer.train([text], 200)
    student_tok.save(folder / "data-new")
    assert not same_vocabulary(student_tok, teacher_tok)
    mapping = vocabulary_map(student_tok, teacher_tok)
    assert mapping.exact > 0 and mapping.composed > 0
    for student_id, teacher_ids in enumerate(mapping.sources):
        piece = student_tok.id_to_token(student_id)
        if len(teacher_ids) > 1:  # a composed piece is spelled by its teacher pieces
            assert "".join(teacher_tok.id_to_token(i) for i in teacher_ids).lstrip("▁") == piece.lstrip("▁")
    moved = [p for p, i in student_tok.vocabulary().items() if teacher_tok.token_id(p) not in (None, i)]
    assert moved, "the test needs pieces whose ids differ between the vocabularies"

    config = toy_config(
        folder,
        new_pair,
        name="toy-transfer",
        init_from=str(ckpt),
        tokenizer=str(folder / "data-new"),
        max_steps=10,
        validate_every=10,
        lr=1e-6,
    )
    assert cli(["train", "--config", str(config)]) == 0
    records = [json.loads(line) for line in (folder / "runs" / "toy-transfer" / "log.jsonl").read_text().splitlines()]
    assert [r["valid_bleu"] for r in records if "valid_bleu" in r][0] > 80
    # The row of a moved piece is the teacher's row of that piece.
    student = torch.load(folder / "runs" / "toy-transfer" / "best.pt", weights_only=True)
    piece = moved[0]
    assert torch.allclose(
        student["marian.model.shared.weight"][student_tok.token_id(piece)],
        teacher.state_dict()["marian.model.shared.weight"][teacher_tok.token_id(piece)],
        atol=1e-3,
    )
    # The card names the model it started from, that model's own training cost and the vocabulary mapping.
    out = folder / "checkpoints" / "toy-transfer"
    assert cli(["export", "--run", str(folder / "runs" / "toy-transfer"), "--out", str(out)]) == 0
    card = json.loads((out / "model_card.json").read_text())
    earlier = json.loads((ckpt / "model_card.json").read_text())["training"]
    assert "continued_from" not in card
    assert card["warm_started_from"] == {
        "checkpoint": str(ckpt),
        "steps": earlier["steps"],
        "target_tokens": earlier["target_tokens"],
        "training_minutes": earlier["training_minutes"],
        "minutes_by_device": {"CPU": earlier["training_minutes"]},
        "architecture": "transformer",
        "pair": "en-de",
        "vocabulary": "mapped piece by piece",
    }
    assert "vocabulary mapped piece by piece" in (out / "README.md").read_text()


def test_export_better_keeps_the_higher_scoring_weights_and_says_so(trained, tmp_path):
    import importlib.util
    from pathlib import Path

    folder, _, _ = trained
    script = Path(__file__).resolve().parents[2] / "scripts" / "export_better.py"
    spec = importlib.util.spec_from_file_location("export_better", script)
    export_better = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export_better)
    out = tmp_path / "better"
    assert (
        export_better.main(
            [
                str(folder / "runs" / "toy-transformer"),
                str(out),
                "--average",
                "2",
                "--name",
                "toy-better",
                "--description",
                "toy words, upper-cased",
            ]
        )
        == 0
    )
    # A run named otherwise (e.g. a continuation run) still exports under the shipped engine name.
    engine = json.loads((out / "engine.json").read_text())
    assert engine["name"] == "toy-better" and engine["description"] == "toy words, upper-cased"
    card = json.loads((out / "model_card.json").read_text())
    scores, kept = card["weights_chosen_by"]["validation_bleu"], card["weights_chosen_by"]["kept"]
    assert set(scores) == {"average", "best"} and kept == max(scores, key=scores.get)
    assert (
        card["weights"].startswith("average of 2")
        if kept == "average"
        else card["weights"] == "best validation snapshot"
    )
    assert "weights_chosen_by" in (out / "README.md").read_text() or kept in (out / "README.md").read_text()


def test_training_summary_of_a_run_stopped_from_outside(tmp_path):
    from translator.export import training_summary

    (tmp_path / "log.jsonl").write_text(
        '{"step": 50, "epoch": 1, "elapsed_min": 0.5, "loss": 2.0, "tgt_tokens_per_s": 100}\n'
        '{"step": 50, "epoch": 1, "elapsed_min": 0.5, "valid_bleu": 12.0}\n{"stopped": "timeout"}\n'
    )
    summary = training_summary(tmp_path)
    assert (summary["steps"], summary["epochs"], summary["training_minutes"]) == (50, 1, 0.5)
    assert summary["validation_curve"] == [{"step": 50, "elapsed_min": 0.5, "valid_bleu": 12.0}]


def test_card_keeps_gpu_and_cpu_minutes_apart():
    from translator.model_card import render_markdown

    card = {
        "name": "m",
        "architecture": "ctc-glat",
        "parameters": 10,
        "weights": "best validation snapshot",
        "training": {"steps": 100, "epochs": 2, "training_minutes": 5.0},
        "train_config": {"device": "cuda", "valid_decoding": {}},
        "continued_from": {"checkpoint": "checkpoints/m", "steps": 600, "training_minutes": 45.0},
        "weights_chosen_by": {"validation_bleu": {"average": 40.1, "best": 40.5}, "kept": "best"},
    }
    text = render_markdown(card)
    assert "5.0 GPU-minutes" in text and "45.0 CPU-minutes + 5.0 GPU-minutes in all" in text
    assert "Weights kept: best" in text
    card["train_config"]["device"] = "cpu"
    assert "50.0 CPU-minutes in all" in render_markdown(card)


def test_training_text_is_the_explicit_files_then_the_named_corpora(tmp_path):
    """A distilled corpus plus the original references: both read, in order; held-out sources still dropped."""
    from translator.train import TrainConfig

    corpus = tmp_path / "data" / "en-de" / "toy"
    corpus.mkdir(parents=True)
    (corpus / "train.en").write_text("one\ntwo\nheld\n")
    (corpus / "train.de").write_text("eins\nzwei\ngehalten\n")
    (corpus / "valid.en").write_text("held\n")
    (corpus / "valid.de").write_text("gehalten\n")
    (tmp_path / "distilled.en").write_text("one\nthree\n")
    (tmp_path / "distilled.de").write_text("EINS\nDREI\n")
    common = dict(
        name="x",
        architecture="ctc-glat",
        source_lang="en",
        target_lang="de",
        valid_src=str(corpus / "valid.en"),
        valid_tgt=str(corpus / "valid.de"),
        data_dir=str(tmp_path / "data"),
    )
    both = TrainConfig(
        **common,
        train_src=str(tmp_path / "distilled.en"),
        train_tgt=str(tmp_path / "distilled.de"),
        train_corpora=["toy"],
    )
    assert both.training_text() == (["one", "three", "one", "two"], ["EINS", "DREI", "eins", "zwei"])
    assert TrainConfig(**common, train_corpora=["toy"]).training_text() == (["one", "two"], ["eins", "zwei"])
    with pytest.raises(ValueError, match="train_corpora"):
        TrainConfig(**common).training_text()


def test_en_pt_kdmix_takes_one_teacher_per_source(tmp_path):
    """scripts/en_pt_kdmix.sh: the shipped AR student translates LibreOffice's training sources, Bergamot's outputs
    stay for every other source, and Bergamot's outputs for LibreOffice's sources are dropped (real checkpoint)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    libreoffice = tmp_path / "en-pt" / "libreoffice"
    libreoffice.mkdir(parents=True)
    lo_sources = ["Click the Save button.", "Select a cell range.", "Opens the Print dialog."]
    (libreoffice / "train.en").write_text("".join(s + "\n" for s in lo_sources))
    (libreoffice / "train.pt").write_text(
        "Clique no botão Salvar.\nSelecione um intervalo de células.\nAbre a caixa de diálogo Imprimir.\n"
    )
    distill_dir = tmp_path / "distill"
    distill_dir.mkdir()
    bergamot = [
        ("Good morning.", "Bom dia."),
        ("Select a cell range.", "BERGAMOT-1"),
        ("Where is the station?", "Onde fica a estação?"),
        ("Opens the Print dialog.", "BERGAMOT-2"),
    ]
    (distill_dir / "en-pt.bergamot.en").write_text("".join(s + "\n" for s, _ in bergamot))
    (distill_dir / "en-pt.bergamot.pt").write_text("".join(t + "\n" for _, t in bergamot))

    result = subprocess.run(
        ["bash", str(root / "scripts" / "en_pt_kdmix.sh")],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "PYTHON": sys.executable,
            "NMT_CHECKPOINTS_DIR": str(root / "checkpoints"),
        },
    )  # the shipped AR student
    shard_logs = "".join(p.read_text()[-1500:] for p in sorted(distill_dir.glob("*.log")))
    assert result.returncode == 0, result.stderr[-1500:] + shard_logs
    sources = (distill_dir / "en-pt.kdmix.en").read_text().splitlines()
    targets = (distill_dir / "en-pt.kdmix.pt").read_text().splitlines()
    assert sources == ["Good morning.", "Where is the station?"] + lo_sources
    assert targets[:2] == ["Bom dia.", "Onde fica a estação?"]
    assert not any(t.startswith("BERGAMOT") for t in targets)
    # The AR student's translations: Portuguese, not copies of the English source.
    assert all(t and t != s for s, t in zip(sources[2:], targets[2:], strict=False))
    assert any(word in " ".join(targets[2:]).lower() for word in ("clique", "selecione", "abre", "imprimir"))


def test_training_summary_counts_target_tokens_and_epochs_seen(tmp_path):
    from translator.export import training_summary
    from translator.model_card import render_markdown

    (tmp_path / "log.jsonl").write_text(
        '{"step": 50, "epoch": 0, "elapsed_min": 0.5, "tgt_tokens_per_s": 100, "target_tokens": 3000,'
        ' "target_tokens_per_epoch": 2000}\n{"step": 50, "epoch": 1, "elapsed_min": 0.5, "valid_bleu": 12.0}\n'
    )
    summary = training_summary(tmp_path)
    assert summary["target_tokens"] == 3000 and summary["epochs_seen"] == 1.5
    card = {"name": "m", "architecture": "transformer", "parameters": 10, "training": summary, "train_config": {}}
    assert "3,000 target tokens seen (1.5 epochs of its data)" in render_markdown(card)


def test_distill_sample_is_chosen_by_text_not_by_position():
    from translator.distill import sample_by_hash

    sources = [f"sentence number {i}" for i in range(100)]
    picked = sample_by_hash(sources, 30)
    assert len(picked) == 30
    assert picked == [s for s in sources if s in set(picked)]  # corpus order kept
    # The choice depends on the texts, not on where they stand: a reordered corpus gives the same set.
    assert set(sample_by_hash(sources[::-1], 30)) == set(picked)
    assert picked != sources[:30] and picked != sources[-30:]
    assert sample_by_hash(sources, 500) == sources
