"""The pretrained Bergamot engines through the translator library's Engine interface (what workers call)."""

from translator.engine import AR
from translator.registry import get_info, load_engine

CASES_EN_PT = [
    ("The cat is sleeping.", ["gato"]),
    ("I drink water every day.", ["água", "dia"]),
    ("The house is very big.", ["casa", "grande"]),
    ("My brother reads a book in the garden.", ["irmão", "livro", "jardim"]),
]


def test_en_pt_translates_content_words():
    engine = load_engine("bergamot-en-pt")
    result = engine.translate_batch([src for src, _ in CASES_EN_PT])
    assert len(result.outputs) == len(CASES_EN_PT) and result.model_seconds > 0
    for (source, words), output in zip(CASES_EN_PT, result.outputs, strict=False):
        for word in words:
            assert word in output.lower(), f"{source!r} -> {output!r} lacks {word!r}"


def test_pt_en_translates_content_words():
    result = load_engine("bergamot-pt-en").translate_batch(["O cachorro come pão.", "A água está fria."])
    assert "dog" in result.outputs[0].lower() and "bread" in result.outputs[0].lower()
    assert "water" in result.outputs[1].lower() and "cold" in result.outputs[1].lower()


def test_several_sentences_in_one_line_and_empty_lines():
    outputs = load_engine("bergamot-en-pt").translate_batch(["The dog runs. The bird sings.", "  "]).outputs
    assert "cão" in outputs[0].lower() and "pássaro" in outputs[0].lower()
    assert outputs[1] == ""


def test_metadata_the_site_shows():
    info = get_info("bergamot-en-pt")
    assert info.family == AR and info.pair == "en-pt" and info.parameters


def test_engine_is_loaded_once_per_process():
    assert load_engine("bergamot-en-pt") is load_engine("bergamot-en-pt")
