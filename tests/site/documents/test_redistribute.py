"""Spreading a paragraph's translation back over its runs: no run lost, words never glued, whitespace kept."""

from nmt_site.documents.formats.base import Slot, apply_translation, block_source, distribute
from translator.sentences import MAX_SENTENCE_CHARS, split_sentences


def test_single_run_takes_everything_and_keeps_its_edges():
    assert distribute("O gato dorme.", ["  The cat sleeps. "]) == ["  O gato dorme. "]


def test_runs_share_words_in_proportion_and_keep_order():
    out = distribute("O gato está dormindo no sofá.", ["The cat is ", "sleeping", " on the sofa."])
    assert len(out) == 3 and all(piece.strip() for piece in out)
    assert " ".join("".join(out).split()) == "O gato está dormindo no sofá."


def test_word_split_across_runs_does_not_glue_translated_words():
    out = distribute("Olá mundo", ["Hel", "lo world"])
    assert " ".join("".join(out).split()) == "Olá mundo" and "".join(out) != "Olámundo"


def test_whitespace_only_runs_are_left_alone():
    out = distribute("A casa é grande.", ["The house", " ", "is big."])
    assert out[1] == " " and "".join(out).split() == "A casa é grande.".split()


def test_more_runs_than_words_keeps_every_run():
    out = distribute("Sim.", ["Yes", ", ", "indeed", "."])
    assert len(out) == 4 and "".join(out).strip() == "Sim."


def test_fixed_slots_are_not_sent_and_not_changed():
    seen = {0: "Use ", 2: " to run it."}  # a setter is called only when its text changes
    block = [
        Slot("Use ", setter=lambda t: seen.__setitem__(0, t)),
        Slot("`foo()`", fixed=True),
        Slot(" to run it.", setter=lambda t: seen.__setitem__(2, t)),
    ]
    assert block_source(block) == "Use to run it."
    apply_translation(block, "Use para executá-lo.")
    assert 1 not in seen and "".join(seen.values()).split() == "Use para executá-lo.".split()


def test_sentence_splitter_handles_abbreviations_and_long_runs():
    assert split_sentences("Dr. Smith arrived at 10 a.m. today. He was late.", "en") == [
        "Dr. Smith arrived at 10 a.m. today.",
        "He was late.",
    ]
    assert split_sentences("O Sr. Silva chegou às 10h. A Dra. Costa, p. ex., não.", "pt") == [
        "O Sr. Silva chegou às 10h.",
        "A Dra. Costa, p. ex., não.",
    ]
    pieces = split_sentences("word " * 1000, "en")
    assert len(pieces) > 1 and all(len(p) <= MAX_SENTENCE_CHARS for p in pieces)
