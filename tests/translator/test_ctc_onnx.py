"""CTC-GLAT in ONNX Runtime (translator/models/ctc_onnx.py) and the lexical shortlist (translator/shortlist.py),
on a tiny CTC-GLAT trained on the synthetic task."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.translator.test_models_synthetic import TINY, build, exact_match, held_out, train, word_tokenizer
from translator import registry, shortlist
from translator.checkpoint import save_folder
from translator.engine import EngineError
from translator.models import ctc_onnx
from translator.models.ctc_glat import CTCGlat
from translator.tokenizer import BLANK

torch.set_num_threads(1)
# Training the tiny model takes ~30 s on an idle core; several times that on a shared one.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def ctc_folder(tmp_path_factory):
    model = build(CTCGlat, dict(TINY, glat_anneal_steps=400))
    train(model, 400)
    folder = tmp_path_factory.mktemp("ckpt") / "tiny-ctc-en-de"
    save_folder(
        folder,
        model.eval(),
        word_tokenizer(),
        {"name": "tiny-ctc-en-de", "source_lang": "en", "target_lang": "de"},
        half=False,
    )
    return folder


@pytest.fixture
def var(tmp_path, monkeypatch):
    monkeypatch.setenv("NMT_VAR_DIR", str(tmp_path / "var"))
    return tmp_path / "var"


def texts(ids_batch) -> list[str]:
    return [" ".join(f"t{i}" for i in ids) for ids in ids_batch]


def held_out_texts(n: int = 120):
    batch, refs = held_out(n)
    sources = [[int(t) for t in row if t > 1] for row in batch.src]  # without pad and EOS
    return texts(sources), texts(refs)


def test_onnx_graph_decodes_exactly_like_the_torch_model(ctc_folder, var):
    """fp32 graphs: the export itself changes nothing (full vocabulary, and a shortlist holding every token)."""
    torch_engine = registry.load_folder(ctc_folder)
    graphs = ctc_onnx.export(torch_engine.model, ctc_folder, var / "fp32", int8=False)
    sources, _ = held_out_texts()
    expected = torch_engine.translate_batch(sources).outputs
    for precision in ctc_onnx.ONNX_PRECISIONS:
        engine = ctc_onnx.OnnxCTCEngine(
            torch_engine.model,
            torch_engine.tokenizer,
            torch_engine.info,
            torch_engine.device,
            graphs,
            precision,
            int8=False,
        )
        if precision == "onnx-int8-shortlist":
            vocab = torch_engine.tokenizer.vocab_size
            engine.shortlist = (np.arange(vocab, dtype=np.int32)[None, :].repeat(vocab, 0), np.zeros(0, dtype=np.int32))
        assert engine.translate_batch(sources).outputs == expected
        assert (
            engine.translate_batch(sources, blank_penalty=1.5).outputs
            == torch_engine.translate_batch(sources, blank_penalty=1.5).outputs
        )


def test_onnx_int8_engine_translates_and_exports_once(ctc_folder, var):
    engine = registry.load_folder(ctc_folder, precision="onnx-int8")
    assert isinstance(engine, ctc_onnx.OnnxCTCEngine)
    sources, refs = held_out_texts()
    result = engine.translate_batch(sources)
    assert exact_match([o.split() for o in result.outputs], [r.split() for r in refs]) >= 0.85
    assert result.details[0]["runtime"] == "onnx-int8"
    graph = var / "onnx" / "tiny-ctc-en-de" / "full-int8.onnx"
    modified = graph.stat().st_mtime_ns
    registry.load_folder(ctc_folder, precision="onnx-int8")  # another process: the graphs are current
    assert graph.stat().st_mtime_ns == modified
    # CTC beam search stays the torch model's.
    assert "runtime" not in engine.translate_batch(sources[:2], ctc_beam=3).details[0]
    # An all-blank decode is finished by the torch model (never an empty output).
    engine.banned[:] = -np.inf
    engine.banned[BLANK] = 0.0
    fallback = engine.translate_batch(sources[:5]).outputs
    assert all(fallback) and fallback == registry.load_folder(ctc_folder).translate_batch(sources[:5]).outputs


def test_shortlist_engine_builds_its_table_from_the_training_pairs(ctc_folder, var, tmp_path, monkeypatch):
    sources, refs = held_out_texts(400)
    data = tmp_path / "data" / "en-de"
    data.mkdir(parents=True)
    (data / "train.en").write_text("".join(s + "\n" for s in sources[120:]))
    (data / "train.de").write_text("".join(r + "\n" for r in refs[120:]))
    monkeypatch.setenv("NMT_DATA_DIR", str(tmp_path / "data"))
    engine = registry.load_folder(ctc_folder, precision="onnx-int8-shortlist")
    assert (var / "shortlists" / "tiny-ctc-en-de.npz").is_file()
    full = registry.load_folder(ctc_folder, precision="onnx-int8")
    got = engine.translate_batch(sources[:120]).outputs
    assert sum(a == b for a, b in zip(got, full.translate_batch(sources[:120]).outputs, strict=True)) >= 110
    # Each source token's shortlist holds the target tokens it maps to (t6 → t18, and t6 also emits t30).
    table, _ = engine.shortlist
    assert {18, 30} <= set(table[6][:4].tolist())


def test_shortlist_build_and_candidates():
    tokenizer = word_tokenizer()
    table, frequent = shortlist.build(tokenizer, ["t6 t7", "t6 t8", "t7 t8"], ["t18 t19", "t18 t20", "t19 t20"], 2, 1)
    assert table[6].tolist() == [18, 19] or table[6].tolist() == [18, 20]
    assert table[6][0] == 18 and table[9].tolist() == [-1, -1]
    assert shortlist.candidates(table, frequent, np.array([6]), [BLANK]).tolist()[0] == BLANK


def test_onnx_precisions_are_for_ctc_glat_only(tmp_path, var):
    from tests.translator.test_models_synthetic import ARTransformer

    folder = save_folder(
        tmp_path / "ar",
        build(ARTransformer, TINY),
        word_tokenizer(),
        {"name": "ar", "source_lang": "en", "target_lang": "de"},
        half=False,
    )
    with pytest.raises(EngineError, match="for CTC-GLAT"):
        registry.load_folder(folder, precision="onnx-int8")
