"""GIMP help reader: block extraction, order-based alignment, drop reasons, mismatched pages.

The fixture pages are written by the tests and only mimic the DocBook XHTML layout of the Debian
gimp-help-* packages (navigation header/footer, generated ``idm…`` ids, title pages, lists, notes…).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from translator.data import gimp_help
from translator.data.gimp_help import Block

# ---------------------------------------------------------------------------------------------- fixtures


def xhtml(title: str, body: str, nav: str = "Prev") -> str:
    """A page in the gimp-help layout; ``nav`` differs per language like the real navigation labels."""
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml">
  <head>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
    <title>{title}</title>
    <script type="text/javascript">var x = "not text";</script>
  </head>
  <body>
    <div class="navheader">
      <table width="100%" summary="Navigation header">
        <tr><th colspan="3" align="center">{title}</th></tr>
        <tr><td><a accesskey="p" href="prev.html"><img src="images/prev.png" alt="{nav}" /></a></td></tr>
      </table>
      <hr />
    </div>
    {body}
    <div class="navfooter">
      <table width="100%" summary="Navigation footer">
        <tr><td><a accesskey="p" href="prev.html">{nav}: previous page</a></td></tr>
      </table>
      <a href="https://gitlab.gnome.org/GNOME/gimp/issues" class="reportbug">Report a bug in GIMP</a>
    </div>
  </body>
</html>
"""


def section(anchor: str, idm: int, heading: str, inner: str) -> str:
    return f"""<div class="sect2">
      <div class="titlepage"><div><div>
        <h3 class="title"><a id="{anchor}"></a>7.9. {heading}</h3>
      </div></div></div>
      <a id="idm{idm}" class="indexterm"></a>
      {inner}
    </div>"""


EN_LAYER = section(
    "gimp-layer-delete",
    28714,
    "Delete Layer",
    """<p>
    The <span class="guimenuitem">Delete Layer</span> command deletes the current
    layer from the image.
  </p>
      <div class="itemizedlist"><ul class="itemizedlist">
        <li class="listitem"><p>You can reach it through <span class="guimenu">Layer</span> →
          <span class="guimenuitem">Delete Layer</span>.</p></li>
        <li class="listitem"><p>It is also in the <a class="link" href="x.html" title="T">Layers Dialog</a>
          <span class="guiicon"><span class="inlinemediaobject"><img src="i.png" alt="Delete" /></span></span>.</p></li>
      </ul></div>
      <div class="note"><h3 class="title">Note</h3><p>Deleted layers can be restored with Undo.</p></div>
      <div class="variablelist"><dl class="variablelist">
        <dt><span class="term">Opacity</span></dt><dd><p>Opacity of the new layer.</p></dd>
        <dt><span class="term">Mode</span></dt><dd><p>100</p></dd>
      </dl></div>
      <pre class="programlisting">(define (delete-layer) 42)</pre>
      <div class="figure"><p class="title"><b>Figure 16.2. Before deleting</b></p></div>
      <table><tr><td>GIMP</td><td>Short.</td></tr></table>""",
)

DE_LAYER = section(
    "gimp-layer-delete",
    28478,
    "Ebene löschen",
    """<p>Mit diesem Befehl können Sie die aktive Ebene des Bildes löschen.</p>
      <div class="itemizedlist"><ul class="itemizedlist">
        <li class="listitem"><p>Sie erreichen ihn über <span class="guimenu">Ebene</span> →
          <span class="guimenuitem">Ebene löschen</span>.</p></li>
        <li class="listitem"><p>Er ist auch im <a class="link" href="x.html" title="T">Ebenendialog</a>
          <span class="guiicon"><span class="inlinemediaobject"><img src="i.png" alt="Delete" /></span></span>.</p></li>
      </ul></div>
      <div class="note"><h3 class="title">Anmerkung</h3><p>Gelöschte Ebenen lassen sich rückgängig machen.</p></div>
      <div class="variablelist"><dl class="variablelist">
        <dt><span class="term">Deckkraft</span></dt><dd><p>Deckkraft der neuen Ebene.</p></dd>
        <dt><span class="term">Modus</span></dt><dd><p>100</p></dd>
      </dl></div>
      <pre class="programlisting">(define (delete-layer) 42)</pre>
      <div class="figure"><p class="title"><b>Abbildung 16.2. Vor dem Löschen</b></p></div>
      <table><tr><td>GIMP</td><td>Eine sehr viel längere Beschreibung für diese kurze Zelle.</td></tr></table>""",
)

# Same page, but the German translator merged the last two of three paragraphs: the position of the
# missing one inside the run of <p> is unknown, so that whole run must not be paired.
EN_MERGED = section(
    "gimp-image-flip",
    100,
    "Flip Image",
    """<p>Flip the image horizontally.</p><p>Or flip it vertically.</p><p>Layers are flipped too.</p>
    <div class="note"><h3 class="title">Note</h3><p>Flipping is lossless.</p></div>""",
)
DE_MERGED = section(
    "gimp-image-flip",
    200,
    "Bild spiegeln",
    """<p>Das Bild waagerecht spiegeln.</p><p>Oder senkrecht spiegeln; Ebenen werden mitgespiegelt.</p>
    <div class="note"><h3 class="title">Anmerkung</h3><p>Spiegeln ist verlustfrei.</p></div>""",
)


def glossary(title: str, entries: list[tuple[str, str, str]]) -> str:
    """A glossary: like the real one, entries are sorted per language, so only the anchors pair them."""
    items = "".join(
        f'<dt><a id="glossary-{key}"></a><span class="glossterm">{term}</span>'
        f'<a id="idm{k}" class="indexterm"></a></dt><dd class="glossdef"><p>{text}</p></dd>'
        for k, (key, term, text) in enumerate(entries)
    )
    return f'<div class="glossary"><h2 class="title"><a id="glossary"></a>{title}</h2><dl>{items}</dl></div>'


EN_GLOSSARY = glossary(
    "Glossary",
    [
        ("alpha", "Alpha", "Alpha describes the transparency of a pixel."),
        ("clipboard", "Clipboard", "The clipboard holds copied data."),
        ("layer", "Layer", "A layer is a transparent sheet."),
    ],
)
DE_GLOSSARY = glossary(
    "Glossar",
    [
        ("alpha", "Alpha", "Alpha beschreibt die Transparenz eines Pixels."),
        ("layer", "Ebene", "Eine Ebene ist eine durchsichtige Folie."),
        ("clipboard", "Zwischenablage", "Die Zwischenablage enthält kopierte Daten."),
    ],
)


def write_tree(root: Path, lang: str, pages: dict[str, str]) -> Path:
    folder = root / "usr/share/gimp/2.0/help" / lang
    folder.mkdir(parents=True)
    for name, body in pages.items():
        (folder / name).write_text(xhtml(name, body, nav=f"nav-{lang}"), encoding="utf-8")
    return root


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    en = write_tree(
        tmp_path / "gimp-help-en",
        "en",
        {
            "gimp-layer-delete.html": EN_LAYER,
            "gimp-image-flip.html": EN_MERGED,
            "glossary.html": EN_GLOSSARY,
            "only-en.html": "<p>Not translated at all.</p>",
        },
    )
    de = write_tree(
        tmp_path / "gimp-help-de",
        "de",
        {"gimp-layer-delete.html": DE_LAYER, "gimp-image-flip.html": DE_MERGED, "glossary.html": DE_GLOSSARY},
    )
    return en, de


# ---------------------------------------------------------------------------------------------- reading


def test_language_codes():
    assert gimp_help.LANGS == {"en": "en", "de": "de", "pt": "pt_BR"}
    assert gimp_help.PACKAGES["pt"] == "gimp-help-pt-br"


def test_help_dir_accepts_package_root_or_help_root(trees):
    en, _ = trees
    folder = gimp_help.help_dir(en, "en")
    assert folder == en / "usr/share/gimp/2.0/help/en"
    assert gimp_help.help_dir(en / "usr/share/gimp/2.0/help", "en") == folder
    with pytest.raises(FileNotFoundError):
        gimp_help.help_dir(en, "pt_BR")


def test_extract_blocks_content_only_in_document_order():
    blocks = gimp_help.extract_blocks(xhtml("Delete", EN_LAYER).encode())
    texts = [b.text for b in blocks]
    assert texts == [
        "Delete Layer",  # section number "7.9." stripped from headings
        "The Delete Layer command deletes the current layer from the image.",
        "You can reach it through Layer → Delete Layer.",
        "It is also in the Layers Dialog .",  # image alt text is not content
        "Note",
        "Deleted layers can be restored with Undo.",
        "Opacity",
        "Opacity of the new layer.",
        "Mode",
        "100",
        "Figure 16.2. Before deleting",
        "GIMP",
        "Short.",
    ]
    # navigation, <head> (title, script) and <pre> listings are not content
    assert not any("Prev" in t or "previous" in t or "Report" in t or "define" in t for t in texts)
    assert [b.sig for b in blocks[:6]] == ["h3.title", "p", "p", "p", "h3.title", "p"]
    assert blocks[6].sig == "dt" and blocks[-1].sig == "td"
    # hand-written ids become anchors; generated "idm…" ones are ignored
    assert {b.anchor for b in blocks} == {"gimp-layer-delete"}


def test_read_pages_sorted_relative_paths(trees):
    en, _ = trees
    pages = gimp_help.read_pages(gimp_help.help_dir(en, "en"))
    assert list(pages) == ["gimp-image-flip.html", "gimp-layer-delete.html", "glossary.html", "only-en.html"]
    assert all(isinstance(b, Block) for blocks in pages.values() for b in blocks)


# ---------------------------------------------------------------------------------------------- aligning


def test_drop_reasons():
    assert gimp_help.drop_reason("Layer", "Ebene") is None
    assert gimp_help.drop_reason("GIMP", "GIMP") == "untranslated"
    assert gimp_help.drop_reason("Opacity", "50 %") == "untranslated"  # target without letters
    assert gimp_help.drop_reason("100", "100,0") == "no_letters"
    # untranslated although not identical: DocBook localises quotes, caption labels and cross-references
    assert gimp_help.drop_reason("Was “Shrink” here.", "Was „Shrink“ here.") == "untranslated"
    assert gimp_help.drop_reason("Figure 17.91. Only color", "Abbildung 17.91. Only color") == "untranslated"
    xref_en = "These options are described in Section 2, “Common Features”."
    xref_de = "These options are described in Abschnitt 2, „Gemeinsame Funktionsmerkmale“."
    assert gimp_help.drop_reason(xref_en, xref_de) == "untranslated"
    assert (
        gimp_help.drop_reason("[APOD] Picture of the Day (2002) .", "[APOD] Picture of the Day (2002).")
        == "untranslated"
    )
    assert gimp_help.drop_reason("Figure 17.91. Only color", "Abbildung 17.91. Nur Farbe") is None
    assert (
        gimp_help.drop_reason(
            xref_en, "Diese Optionen sind in Abschnitt 2, „Gemeinsame Funktionsmerkmale“ beschrieben."
        )
        is None
    )
    # the 15-char floor keeps short labels; beyond it a > 3× length ratio is dropped
    assert gimp_help.drop_reason("Mode", "Ebenenmodus ändern") is None
    assert (
        gimp_help.drop_reason("Short.", "Eine sehr viel längere Beschreibung für diese kurze Zelle.") == "length_ratio"
    )


def test_align_exact_page_by_order(trees):
    en, de = trees
    result = gimp_help.read_corpus(en, de, "de")
    pairs = result.pairs["gimp-layer-delete.html"]
    assert pairs[:3] == [
        ("Delete Layer", "Ebene löschen"),
        (
            "The Delete Layer command deletes the current layer from the image.",
            "Mit diesem Befehl können Sie die aktive Ebene des Bildes löschen.",
        ),
        ("You can reach it through Layer → Delete Layer.", "Sie erreichen ihn über Ebene → Ebene löschen."),
    ]
    assert ("Note", "Anmerkung") in pairs and ("Mode", "Modus") in pairs
    assert ("Figure 16.2. Before deleting", "Abbildung 16.2. Vor dem Löschen") in pairs
    # dropped on this page: "100"/"100" (no letters), "GIMP"/"GIMP" (untranslated), "Short." (ratio)
    assert len(pairs) == 13 - 3
    assert result.stats["pages_exact"] == 1


def test_align_stats_and_mismatched_pages(trees):
    en, de = trees
    result = gimp_help.read_corpus(en, de, "de")
    st = result.stats
    assert st["pages_missing"] == 1  # only-en.html
    assert "only-en.html" not in result.pairs
    assert (st["no_letters"], st["untranslated"], st["length_ratio"]) == (1, 2, 1)
    assert (st["pages_exact"], st["pages_partial"]) == (1, 2)

    # merged paragraphs: the ambiguous <p> run is skipped, the rest of the page still pairs
    flip = result.pairs["gimp-image-flip.html"]
    assert flip == [
        ("Flip Image", "Bild spiegeln"),
        ("Note", "Anmerkung"),
        ("Flipping is lossless.", "Spiegeln ist verlustfrei."),
    ]
    assert st["unmatched"] == 3 + 2  # three English and two German paragraphs left out

    # glossary sorted differently per language: entries pair through their anchors, in English order
    gloss = result.pairs["glossary.html"]
    assert gloss[0] == ("Glossary", "Glossar")
    assert ("Alpha", "Alpha") not in gloss  # same term in both languages: untranslated
    assert ("Clipboard", "Zwischenablage") in gloss and ("Layer", "Ebene") in gloss
    assert ("A layer is a transparent sheet.", "Eine Ebene ist eine durchsichtige Folie.") in gloss
    english = [e for e, _ in gloss]
    assert english.index("Clipboard") < english.index("Layer")
    assert st["pairs_partial"] == len(flip) + len(gloss)


def test_structurally_unrelated_page_is_skipped():
    en = {"a.html": [Block("p", "One paragraph here."), Block("p", "Another one.")]}
    de = {"a.html": [Block("td", "Eine Zelle."), Block("dt", "Ein Begriff.")]}
    result = gimp_help.align(en, de)
    assert result.pairs == {}
    assert result.stats["pages_none"] == 1 and result.stats["unmatched"] == 4


def test_output_is_deterministic(trees):
    en, de = trees
    first = gimp_help.read_corpus(en, de, "de")
    second = gimp_help.read_corpus(en, de, "de")
    assert list(first.pairs) == sorted(first.pairs)
    assert first.pairs == second.pairs and first.stats == second.stats


def test_prepare_build_puts_the_whole_manual_in_train(trees, tmp_path):
    from translator.data import heldout, prepare

    en_root, de_root = trees
    sources = prepare.Sources(gimp={"en": en_root, "de": de_root})
    manifest = prepare.build(
        sources, tmp_path / "out", ["en-de"], log=lambda *_: None, held_out_list=heldout.load(tmp_path / "none")
    )
    folder = tmp_path / "out" / "en-de" / "gimp"
    train = (folder / "train.en").read_text().splitlines()
    expected = gimp_help.read_corpus(en_root, de_root, "de").pairs
    assert set(train) == {en for page in expected.values() for en, _ in page} and train
    assert (folder / "test.en").read_text() == "" and (folder / "valid.en").read_text() == ""
    assert manifest["filters"]["en-de"]["gimp"]["pages_exact"] >= 1
