"""Hugging Face Marian folders (a user's OPUS-MT-style model, and ours) in torch and in CTranslate2.

The user's folder is made here in exactly the OPUS-MT layout (tests/marian_fixture.py: a sentencepiece vocabulary
trained here, a tiny Marian model trained on a word-mapping task), so translations are checkable.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tests.marian_fixture import make_marian_folder, toy_pairs
from translator import ct2, marian_folder, registry
from translator.checkpoint import load_model_folder, save_folder
from translator.cli import main as cli
from translator.engine import EngineError
from translator.engines.ctranslate2_engine import CTranslate2Engine, info_for

torch.set_num_threads(1)
HELD_OUT = toy_pairs(30, seed=99)


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    return make_marian_folder(tmp_path_factory.mktemp("downloads") / "opus-mt-en-de", steps=350)


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    root.mkdir()
    monkeypatch.setenv("NMT_CHECKPOINTS_DIR", str(root))
    monkeypatch.setenv("NMT_CT2_DIR", str(tmp_path / "ct2"))
    return root


def exact(outputs: list[str]) -> float:
    return sum(out == ref for out, (_, ref) in zip(outputs, HELD_OUT, strict=True)) / len(HELD_OUT)


def sources() -> list[str]:
    return [s for s, _ in HELD_OUT]


def test_folder_dropped_into_checkpoints_is_listed_and_translates_in_torch_and_ct2(user_folder, checkpoints, tmp_path):
    shutil.copytree(user_folder, checkpoints / user_folder.name)
    listed = {info.name: info for info in registry.list_engines()}
    # No engine.json: the name is the folder's, the languages come from tokenizer_config.json.
    torch_info, ct2_info = listed["opus-mt-en-de"], listed["opus-mt-en-de-ct2"]
    assert (torch_info.pair, torch_info.family, torch_info.architecture) == ("en-de", "AR", "marian")
    assert ct2_info.pair == "en-de" and ct2_info.decoding_defaults == torch_info.decoding_defaults
    assert not (tmp_path / "ct2").exists()  # listing converts nothing

    engine = registry.load_engine("opus-mt-en-de")
    greedy = engine.translate_batch(sources(), beam=1).outputs
    beam = engine.translate_batch(sources(), beam=4).outputs
    assert exact(greedy) >= 0.85 and exact(beam) >= 0.85, (greedy, beam)

    converted = engine_ct2 = registry.load_engine("opus-mt-en-de-ct2")
    assert isinstance(engine_ct2, CTranslate2Engine)
    converted = tmp_path / "ct2" / "opus-mt-en-de"
    stamp = json.loads((converted / ct2.STAMP).read_text())
    assert stamp["quantization"] == "int8" and (converted / "model.bin").is_file()
    int8 = engine_ct2.translate_batch(sources(), beam=1).outputs
    # int8 weights of a 32-wide model move some scores; the task is still mostly right.
    assert exact(int8) >= 0.75, int8
    # A second engine (another worker process) finds the conversion current and leaves it alone.
    modified = (converted / "model.bin").stat().st_mtime_ns
    assert ct2.convert_checkpoint(checkpoints / "opus-mt-en-de").samefile(converted)
    assert (converted / "model.bin").stat().st_mtime_ns == modified
    with pytest.raises(EngineError, match="takes no precision"):
        registry.load_engine("opus-mt-en-de-ct2", precision="int8")


def agreement(a: list[str], b: list[str]) -> float:
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)


def test_ctranslate2_conversion_gives_the_torch_models_outputs(user_folder, tmp_path):
    """Converted without quantization, the CTranslate2 model decodes greedily exactly like the torch one: the
    converter maps every weight, the vocabulary, the start token and the decoding options faithfully. Beam search
    is CTranslate2's own (its length normalisation and stopping differ in details from ours): mostly the same."""
    torch_engine = registry.load_folder(user_folder)
    out = ct2.convert_folder(user_folder, tmp_path / "fp32", quantization="float32")
    engine = CTranslate2Engine(info_for(torch_engine.info), user_folder, out)
    texts = sources() + ["alpha alpha alpha beta", "sigma"]
    assert engine.translate_batch(texts, beam=1).outputs == torch_engine.translate_batch(texts, beam=1).outputs
    beam = engine.translate_batch(texts, beam=4).outputs
    assert agreement(beam, torch_engine.translate_batch(texts, beam=4).outputs) >= 0.8


def test_incomplete_folder_is_refused_naming_the_missing_files(user_folder, checkpoints, tmp_path, capsys):
    partial = tmp_path / "partial-en-de"
    shutil.copytree(user_folder, partial)
    (partial / "source.spm").unlink()
    (partial / "model.safetensors").unlink()
    with pytest.raises(EngineError) as caught:
        marian_folder.check_folder(partial)
    assert "source.spm" in str(caught.value) and "model.safetensors" in str(caught.value)
    assert "target.spm" not in str(caught.value)
    # The same message from the command and from the registry when the folder is dropped in.
    with pytest.raises(SystemExit) as exit_:
        cli(["register-marian", str(partial)])
    assert (
        exit_.value.code == 2
        and "missing model.safetensors or pytorch_model.bin, source.spm" in capsys.readouterr().err
    )
    shutil.copytree(partial, checkpoints / "partial-en-de")
    with pytest.raises(EngineError, match="source.spm"):
        registry.load_engine("partial-en-de")
    (tmp_path / "not-marian").mkdir()
    (tmp_path / "not-marian" / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(EngineError, match="not 'marian'"):
        marian_folder.check_folder(tmp_path / "not-marian")


def test_register_command_copies_the_folder_with_its_languages(user_folder, checkpoints, tmp_path, capsys):
    renamed = tmp_path / "my-model"  # languages cannot be read from this name: --source/--target give them
    shutil.copytree(user_folder, renamed)
    (renamed / "tokenizer_config.json").write_text("{}")
    assert cli(["register-marian", str(renamed), "--name", "mine", "--source", "en", "--target", "de"]) == 0
    engine_file = json.loads((checkpoints / "mine" / "engine.json").read_text())
    assert engine_file["architecture"] == "marian" and engine_file["source_lang"] == "en"
    assert {"mine", "mine-ct2"} <= {info.name for info in registry.list_engines()}
    assert exact(registry.load_engine("mine").translate_batch(sources(), beam=1).outputs) >= 0.85
    with pytest.raises(SystemExit):
        cli(["register-marian", str(renamed), "--name", "mine", "--source", "en", "--target", "de"])
    assert "exists already" in capsys.readouterr().err


def tiny_ar():
    from tests.translator.test_models_synthetic import TINY, build, train, word_tokenizer
    from translator.models.ar_transformer import ARTransformer

    model = build(ARTransformer, TINY)
    train(model, 60)
    return model.eval(), word_tokenizer()


def test_our_ar_folder_is_a_standard_hugging_face_marian_folder(tmp_path):
    from safetensors.torch import save_model
    from transformers import AutoModelForSeq2SeqLM

    model, tokenizer = tiny_ar()
    folder = save_folder(
        tmp_path / "ours", model, tokenizer, {"name": "ours", "source_lang": "en", "target_lang": "de"}
    )
    hf, loading = AutoModelForSeq2SeqLM.from_pretrained(str(folder), output_loading_info=True)
    assert type(hf).__name__ == "MarianMTModel" and not loading["missing_keys"] and not loading["unexpected_keys"]
    src = torch.tensor([[7, 8, 9, 10, 1], [11, 6, 7, 1, 0]])
    ours, _ = model.half().float().generate(src, beam=1, no_repeat_ngram_size=0)  # the folder holds fp16 weights
    theirs = hf.float().generate(input_ids=src, attention_mask=src.ne(0), num_beams=1, max_new_tokens=20)
    assert [row[1 : 1 + len(mine)] for row, mine in zip(theirs.tolist(), ours, strict=True)] == ours
    reloaded, _ = load_model_folder(folder)
    assert reloaded.generate(src, beam=1, no_repeat_ngram_size=0)[0] == ours

    # An older export (weights under our wrapper's "marian." prefix) still loads, and hf-marian rewrites it.
    legacy = tmp_path / "legacy"
    shutil.copytree(folder, legacy)
    save_model(model, str(legacy / "model.safetensors"))
    config = json.loads((legacy / "config.json").read_text())
    (legacy / "config.json").write_text(json.dumps(marian_folder.our_config(config)))
    assert load_model_folder(legacy)[0].generate(src, beam=1, no_repeat_ngram_size=0)[0] == ours
    assert cli(["hf-marian", str(legacy)]) == 0
    hf_legacy, loading = AutoModelForSeq2SeqLM.from_pretrained(str(legacy), output_loading_info=True)
    assert not loading["missing_keys"]
    assert all(torch.equal(hf_legacy.state_dict()[k].float(), v.float()) for k, v in model.marian.state_dict().items())


SHIPPED_AR = ["ar-teacher-en-de", "fast-ar-en-de", "ar-student-en-pt"]


@pytest.mark.parametrize("name", SHIPPED_AR)
def test_shipped_ar_configs_are_standard_marian_configs(name):
    from transformers import AutoConfig

    folder = registry.REPO_ROOT / "checkpoints" / name
    config = AutoConfig.from_pretrained(str(folder))
    ours = json.loads((folder / "config.json").read_text())
    assert config.model_type == "marian" and config.d_model == ours["d_model"]
    assert config.decoder_layers == ours["decoder_layers"] and config.encoder_ffn_dim == ours["ffn_dim"]
    assert marian_folder.standard_config(marian_folder.our_config(ours)) == ours  # nothing stale


def test_shipped_fast_ar_converts_to_ctranslate2_exactly(tmp_path):
    """Our vocabulary keeps <pad> at id 0 and decoding starts from its (trained, non-zero) embedding: the
    conversion must keep both, or CTranslate2 would translate differently from the torch model."""
    folder = registry.REPO_ROOT / "checkpoints" / "fast-ar-en-de"
    torch_engine = registry.load_folder(folder)
    out = ct2.convert_folder(folder, tmp_path / "fast-ar", quantization="float32")
    engine = CTranslate2Engine(info_for(torch_engine.info), folder, out)
    texts = ["Open the file menu.", "Select the cells that you want to delete.", "Save the table before you close."]
    assert engine.translate_batch(texts, beam=1).outputs == torch_engine.translate_batch(texts, beam=1).outputs
    assert (
        agreement(engine.translate_batch(texts, beam=4).outputs, torch_engine.translate_batch(texts, beam=4).outputs)
        >= 2 / 3
    )


def test_dropped_folder_without_languages_is_not_listed_and_list_says_why(user_folder, checkpoints, capsys):
    shutil.copytree(user_folder, checkpoints / "mymodel")
    (checkpoints / "mymodel" / "tokenizer_config.json").write_text("{}")
    assert "mymodel" not in {info.name for info in registry.list_engines()}
    assert cli(["list"]) == 0
    err = capsys.readouterr().err
    assert "mymodel" in err and "--source XX --target YY" in err
