"""The gettext corpus: reading compiled catalogs, cleaning, package-level splits, the held-out filter.

Catalogs are compiled by the test itself (``write_mo``), no Debian package is read.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

from translator.data import gettext_catalogs as gt
from translator.data import heldout, prepare, splits

# ---------------------------------------------------------------------------------------------- helpers


def write_mo(path: Path, entries: list[tuple[str, str]], charset: str = "UTF-8", big_endian: bool = False) -> Path:
    """A compiled catalog as msgfmt writes it (header first; ids sorted); plural ids/strs joined with NUL."""
    header = ("", f"Content-Type: text/plain; charset={charset}\n")
    items = sorted([header, *entries])
    ids = [i.encode(charset) for i, _ in items]
    strs = [s.encode(charset) for _, s in items]
    order = ">" if big_endian else "<"
    n = len(items)
    orig_at, trans_at = 28, 28 + 8 * n
    data_at = trans_at + 8 * n
    blob, orig_table, trans_table = b"", [], []
    for table, values in ((orig_table, ids), (trans_table, strs)):
        for value in values:
            table.append((len(value), data_at + len(blob)))
            blob += value + b"\x00"
    magic = 0x950412DE
    out = struct.pack(order + "7I", magic, 0, n, orig_at, trans_at, 0, 0)
    for length, offset in orig_table + trans_table:
        out += struct.pack(order + "2I", length, offset)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out + blob)
    return path


def catalog(package: str, source: str, entries: list[tuple[str, str]]) -> gt.Catalog:
    return gt.Catalog(package, source, entries)


# ------------------------------------------------------------------------------------------- read_mo


def test_read_mo_plurals_contexts_charsets_and_byte_order(tmp_path):
    entries = [
        ("Open file", "Datei öffnen"),
        ("%d file\x00%d files", "%d Datei\x00%d Dateien"),
        ("menu\x04Quit", "Beenden"),
        ("Untranslated", ""),
    ]
    for charset, big in (("UTF-8", False), ("ISO-8859-1", True)):
        mo = write_mo(tmp_path / f"{charset}.mo", entries, charset=charset, big_endian=big)
        got = gt.read_mo(mo.read_bytes())
        assert ("Open file", "Datei öffnen") in got
        assert ("%d file", "%d Datei") in got and ("%d files", "%d Dateien") in got
        assert ("Quit", "Beenden") in got  # context dropped
        assert all(en for en, _ in got) and not any(en == "Untranslated" for en, _ in got)  # header, empty
    assert gt.read_mo(b"not a catalog at all, no magic here") == []


# ------------------------------------------------------------------------------------------ cleaning


def test_accelerators_markup_and_placeholders():
    assert gt.strip_accelerators("_Save As…") == "Save As…"
    assert gt.strip_accelerators("Save _As") == "Save As"
    assert gt.strip_accelerators("E_stilo") == "Estilo"  # mid-word, as translators place it
    assert gt.strip_accelerators("&Open") == "Open" and gt.strip_accelerators("Tom && Jerry") == "Tom & Jerry"
    assert gt.strip_accelerators("~Datei") == "Datei"
    assert gt.strip_accelerators("snake_case_name") == "snake_case_name"  # two underscores: an identifier
    assert gt.strip_markup("<b>Bold</b> &amp; <a href='x'>link</a>") == " Bold  &  link "
    assert gt.strip_markup("Fish & chips") == "Fish & chips"  # a literal ampersand is not markup
    assert gt.placeholders("%s of %(total)d in {0} for $HOME") == gt.placeholders("$HOME: {0}, %(total)d, %s")
    assert gt.placeholders("%1$s and %2$s") == gt.placeholders("%2$s und %1$s")
    assert gt.placeholders("100%% done") == gt.placeholders("100%% erledigt")


def test_clean_pair_reasons():
    assert gt.clean_pair("_Open the file", "Datei ö_ffnen") == (("Open the file", "Datei öffnen"), "kept")
    assert gt.clean_pair("Copy %s to %s", "Kopiere %s") == (None, "placeholder_mismatch")
    assert gt.clean_pair("Settings", "Settings") == (None, "untranslated")
    assert gt.clean_pair("%s", "%s") == (None, "no_letters")
    assert gt.clean_pair("OK", "Die Operation wurde erfolgreich abgeschlossen und alles ist gut") == (
        None,
        "length_ratio",
    )
    assert gt.clean_pair("word " * 130, "Wort " * 130)[1] == "too_long"


def test_paragraphs_split_only_when_both_sides_agree():
    assert gt.paragraphs("One.\n\nTwo.", "Eins.\n\nZwei.") == [("One.", "Eins."), ("Two.", "Zwei.")]
    assert gt.paragraphs("One.\n\nTwo.", "Eins. Zwei.") == [("One.\n\nTwo.", "Eins. Zwei.")]


# ------------------------------------------------------------------------------------------ the corpus


def package_sources_by_split() -> dict[str, list[str]]:
    """Source package names whose hash puts them in each split (found, not assumed)."""
    found: dict[str, list[str]] = {s: [] for s in splits.SPLITS}
    i = 0
    while min(len(v) for v in found.values()) < 2:
        name = f"src{i}"
        found[splits.assign("gettext:" + name, gt.VALID_FRAC, gt.TEST_FRAC, salt=gt.SALT)].append(name)
        i += 1
    return found


def test_build_corpus_splits_by_source_package_and_keeps_evaluation_unseen():
    by_split = package_sources_by_split()
    train_src, test_src = by_split["train"][0], by_split["test"][0]
    shared = ("Could not open the selected file for reading", "Die gewählte Datei konnte nicht gelesen werden")
    test_only = ("The connection to the server was lost unexpectedly", "Die Verbindung zum Server brach ab")
    cats = [
        catalog("app", train_src, [shared, ("Save", "Speichern"), ("Save", "Sichern"), ("save", "Speichern")]),
        catalog("app-data", train_src, [("Quit the program now", "Das Programm jetzt beenden")]),
        catalog("tool", test_src, [shared, test_only, ("Short label", "Kurzes Etikett")]),
    ]
    report = gt.build_corpus(cats)
    assert report.packages == {"app": "train", "app-data": "train", "tool": "test"}  # one source, one split
    train, test = report.splits["train"], report.splits["test"]
    assert shared in train and ("Quit the program now", "Das Programm jetzt beenden") in train
    assert ("Save", "Speichern") in train and ("Save", "Sichern") in train
    assert ("save", "Speichern") not in train  # near duplicate of ("Save", "Speichern")
    assert test == [test_only]  # seen-in-train and short strings are not test material
    assert report.counts["test_seen_in_train"] == 1 and report.counts["test_short"] == 1
    assert report.counts["near_duplicate"] == 1 and report.counts["train_pairs"] == len(train)


def test_build_corpus_held_out_and_language_filters_count_what_they_drop():
    by_split = package_sources_by_split()
    secret = "This sentence is part of the evaluation material nobody sees"
    cats = [
        catalog(
            "a",
            by_split["train"][0],
            [(secret, "Dieser Satz gehört zum geheimen Testmaterial"), ("Print the page now", "Seite jetzt drucken")],
        )
    ]

    def language_ok(pairs):
        return [tgt != "Seite jetzt drucken" for _, tgt in pairs]

    report = gt.build_corpus(cats, held_out=lambda text: text == secret, language_ok=language_ok)
    assert report.splits["train"] == []
    assert report.counts["held_out"] == 1 and report.counts["wrong_language"] == 1


def test_lingua_check_flags_untranslated_long_strings():
    check = gt.lingua_check("de")
    verdict = check(
        [
            ("The file could not be saved to the disk", "Die Datei konnte nicht auf der Festplatte gespeichert werden"),
            ("The file could not be saved to the disk", "The file could not be saved to the disk either"),
            ("Save", "Save it"),  # too short to judge: kept
        ]
    )
    assert verdict == [True, False, True]


def test_read_catalogs_from_an_extracted_tree(tmp_path):
    write_mo(tmp_path / "pkg" / "de" / "a.mo", [("Open", "Öffnen")])
    write_mo(tmp_path / "pkg" / "de" / "b.mo", [("Close", "Schließen")])
    write_mo(tmp_path / "pkg" / "pt_BR" / "a.mo", [("Open", "Abrir")])
    rows = [("pkg", "pkgsrc"), ("absent", "absent")]
    (de,) = gt.read_catalogs(tmp_path, rows, "de")
    (pt,) = gt.read_catalogs(tmp_path, rows, "pt")
    assert de.source == "pkgsrc" and sorted(de.entries) == [("Close", "Schließen"), ("Open", "Öffnen")]
    assert pt.entries == [("Open", "Abrir")]


def test_package_list_is_well_formed_and_holds_no_held_out_package():
    rows = gt.read_package_list()
    assert len(rows) > 1000 and len({p for p, _ in rows}) == len(rows)
    banned = {"gnome-user-docs", "debian-faq", "developers-reference", "live-manual", "maint-guide", "calibre"}
    assert not banned & {p for p, _ in rows}


# -------------------------------------------------------------------------------------- held-out list


def fake_heldout_dir(tmp_path: Path, texts: list[str]) -> Path:
    """A held-out folder with the same interface as the project's (normalize.py + sources.sha256)."""
    folder = tmp_path / "heldout"
    folder.mkdir()
    (folder / "normalize.py").write_text(
        "import hashlib\nfrom pathlib import Path\n"
        "def held_out_hashes():\n"
        "    return set(Path(__file__).with_name('sources.sha256').read_text().split())\n"
        "def is_held_out(text):\n"
        "    return hashlib.sha256(' '.join(text.lower().split()).encode()).hexdigest() in held_out_hashes()\n"
    )
    digests = [hashlib.sha256(" ".join(t.lower().split()).encode()).hexdigest() for t in texts]
    (folder / "sources.sha256").write_text("\n".join(digests) + "\n")
    return folder


def test_heldout_load_uses_the_folder_module_and_says_when_missing(tmp_path):
    listed = heldout.load(fake_heldout_dir(tmp_path, ["Secret  TEXT"]))
    assert listed.is_held_out("secret text") and not listed.is_held_out("public text")
    assert "1 hashes" in listed.description
    missing = heldout.load(tmp_path / "nowhere")
    assert not missing.is_held_out("secret text") and missing.description.startswith("not checked")


def test_prepare_build_with_gettext_drops_held_out_pairs_and_records_filters(tmp_path):
    by_split = package_sources_by_split()
    secret = "Select the printer you want to use for this document"
    root = tmp_path / "gettext"
    rows = []
    for k, src in enumerate(by_split["train"][:2] + by_split["test"][:1]):
        pkg = f"pkg{k}"
        rows.append((pkg, src))
        entries = [
            (f"Open the document number {k} in a new window", f"Das Dokument Nummer {k} in einem neuen Fenster öffnen"),
            (f"Close window {k}", f"Fenster {k} schließen"),
        ]
        if k == 0:
            entries.append((secret, "Wählen Sie den Drucker für dieses Dokument"))
        write_mo(root / pkg / "de" / "app.mo", entries)
        write_mo(root / pkg / "pt_BR" / "app.mo", [(e, f"PT {t}") for e, t in entries])
    sources = prepare.Sources(gettext_root=root, gettext_packages=rows)
    listed = heldout.load(fake_heldout_dir(tmp_path, [secret]))
    manifest = prepare.build(sources, tmp_path / "out", ["en-de"], log=lambda *_: None, held_out_list=listed)
    train_en = (tmp_path / "out" / "en-de" / "gettext" / "train.en").read_text().splitlines()
    test_en = (tmp_path / "out" / "en-de" / "gettext" / "test.en").read_text().splitlines()
    assert "Open the document number 0 in a new window" in train_en and secret not in train_en
    assert test_en == ["Open the document number 2 in a new window"]
    assert manifest["held_out"]["dropped"]["en-de"]["gettext"] == 1
    assert manifest["filters"]["en-de"]["gettext"]["train_pairs"] >= 4
    assert manifest["held_out"]["list"].startswith("1 hashes")
    counts = json.loads((tmp_path / "out" / "en-de" / "counts.json").read_text())
    assert counts["gettext"]["test"] == 1
