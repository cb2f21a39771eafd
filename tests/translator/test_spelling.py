"""What a model cannot spell is kept in place: unit tests of the plan, and the shipped engines end to end."""

from pathlib import Path

import pytest

from translator.registry import load_engine, load_folder
from translator.spelling import Plan, is_all_caps, protect, spellable_from_vocabulary

ASCII_ONLY = spellable_from_vocabulary(["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,'\"-!?()"])


def test_plan_keeps_unspellable_words_and_sends_the_rest():
    plan = protect("Raphaël wrote ‘next’ © 2024 日本語 today.", ASCII_ONLY)
    assert plan.parts == [
        ("Raphael wrote 'next'", False),
        (" © ", True),
        ("2024", False),
        (" 日本語 ", True),
        ("today.", False),
    ]
    assert plan.restore[0] == [("Raphael", "Raphaël")]
    # The model's translations come back in order; the kept words and the accented name are put back.
    assert plan.assemble(["Raphael schrieb 'weiter'", "2024", "heute."]) == (
        "Raphaël schrieb 'weiter' © 2024 日本語 heute."
    )


def test_a_name_the_model_respelled_differently_is_left_as_the_model_wrote_it():
    plan = protect("Zoë came.", ASCII_ONLY)
    assert plan.assemble(["Zoe kam."]) == "Zoë kam."
    assert plan.assemble(["Sie kam."]) == "Sie kam."


def test_all_caps_is_sent_in_sentence_case_and_upper_cased_back():
    assert is_all_caps("THE QUICK BROWN FOX.") and not is_all_caps("Use the HTML tag.") and not is_all_caps("OK")
    plan = protect("THE QUICK BROWN FOX.", ASCII_ONLY)
    assert plan.to_translate() == ["The quick brown fox."]
    assert plan.assemble(["Der schnelle braune Fuchs."]) == "DER SCHNELLE BRAUNE FUCHS."


def test_a_model_that_spells_everything_gets_the_sentence_unchanged():
    everything = spellable_from_vocabulary(["Raphaël©日本語 wrote"])
    sentence = "Raphaël wrote © 日本語"
    assert protect(sentence, everything).to_translate() == [sentence]
    assert Plan.whole(sentence).assemble(["x"]) == "x"


@pytest.fixture(scope="module")
def bergamot():
    return load_engine("bergamot-en-pt", "cpu")


def test_bergamot_copies_names_symbols_and_other_scripts(bergamot):
    # The package's model writes these as "Rapha'l … - 2024 - -" when they reach it.
    out = bergamot.translate_batch(["Raphaël wrote ‘next’ © 2024 日本語 “quoted”."]).outputs[0]
    for kept in ("Raphaël", "©", "2024", "日本語"):
        assert kept in out, out
    assert "escreveu" in out
    assert bergamot.translate_batch(["😀😀"]).outputs == ["😀😀"]


def test_bergamot_all_caps_comes_back_translated_in_caps(bergamot):
    out = bergamot.translate_batch(["THE FILE WAS SAVED."]).outputs[0]
    assert out == out.upper() and "ARQUIVO" in out, out


def test_our_models_never_receive_characters_outside_their_vocabulary():
    # The repository's own folder (other suites point NMT_CHECKPOINTS_DIR at tiny models of theirs).
    engine = load_folder(Path(__file__).resolve().parents[2] / "checkpoints" / "ctc-glat-en-de", "cpu")
    assert not engine.spellable("日") and engine.spellable("ä") and engine.spellable("a")
    out = engine.translate_batch(["The word 日本語 means Japan."]).outputs[0]
    assert "日本語" in out and out.strip()
