"""The engine interface's shared input handling: sentence by sentence, whitespace kept, letterless text copied."""

from __future__ import annotations

import pytest

from translator.engine import Engine, EngineInfo
from translator.registry import load_engine


class RecordingEngine(Engine):
    """Upper-cases what it is given and records every model input: the interface's plumbing under test."""

    def __init__(self):
        self.info = EngineInfo("recorder", "AR", "test", "en", "de", decoding_defaults={})
        self.calls: list[list[str]] = []

    def _translate(self, sentences, **options):
        self.calls.append(list(sentences))
        return [s.upper() for s in sentences], [{"n": len(s)} for s in sentences]


def test_multi_sentence_input_is_translated_sentence_by_sentence_with_its_whitespace():
    engine = RecordingEngine()
    result = engine.translate_batch(["First one. Second one!  Third?", "Only one.", "Line a\nline b"])
    assert engine.calls == [["First one.", "Second one!", "Third?", "Only one.", "Line a", "line b"]]
    assert result.outputs == ["FIRST ONE. SECOND ONE!  THIRD?", "ONLY ONE.", "LINE A\nLINE B"]
    assert result.details[1] == {"n": 9} and result.details[0] == {"sentences": 3}


def test_abbreviations_do_not_split_a_sentence():
    engine = RecordingEngine()
    engine.translate_batch(["Dr. Smith opened the file, e.g. a report. Then he closed it."])
    assert engine.calls == [["Dr. Smith opened the file, e.g. a report.", "Then he closed it."]]


def test_empty_and_letterless_inputs_never_reach_the_model():
    engine = RecordingEngine()
    result = engine.translate_batch(["", "   ", "🙂🎉", "→ ©", "Hi."])
    assert engine.calls == [["Hi."]]
    assert result.outputs == ["", "", "🙂🎉", "→ ©", "HI."]


def test_bergamot_keeps_the_space_between_sentences():
    try:
        engine = load_engine("bergamot-en-pt")
    except Exception as exc:  # pragma: no cover - the package ships with requirements.txt
        pytest.fail(f"bergamot-en-pt does not load: {exc}")
    text = "The program uses all cores. Then it writes the file. Finally it exits."
    out = engine.translate_batch([text]).outputs[0]
    sentences = [s for s in out.split(" ") if s.endswith(".")]
    assert len(sentences) == 3 and out.count(". ") == 2, out
    assert engine.translate_batch(["🙂"]).outputs == ["🙂"]
