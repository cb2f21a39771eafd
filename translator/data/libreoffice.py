"""LibreOffice help pages → paragraph-aligned sentence pairs.

The help packages ship one HTML page per topic under ``usr/share/libreoffice/help/<lang>/text``; the same
relative path exists for every language, and paragraphs/headings carry ids (``par_id…``, ``hd_id…``) that
are identical across languages. We align on (relative path, id).

Inline "switch" markup holds per-platform or per-module variants as hidden spans (``class="MAC"``,
``class="CALC"`` …) next to the default variant (a hidden span without a class); we keep only the default.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from .text import clean, has_letters, word_count

ID_RE = re.compile(r"^(par|hd)_id")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
SKIP_TAGS = {"script", "style", "noscript", "template"}
MAX_WORDS = 200


class _ParagraphParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: dict[str, str] = {}
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped) for open elements inside a capture
        self._cur_id: str | None = None
        self._buf: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._cur_id is None:
            pid = a.get("id") or ""
            if ID_RE.match(pid) and tag not in VOID:
                self._cur_id, self._buf, self._stack, self._skip_depth = pid, [], [(tag, False)], 0
            return
        if tag in VOID:
            if tag == "br":
                self._buf.append(" ")
            return
        skipped = tag in SKIP_TAGS or ("hidden" in a and a.get("class"))
        self._stack.append((tag, bool(skipped)))
        if skipped:
            self._skip_depth += 1

    def handle_startendtag(self, tag, attrs):
        if self._cur_id is not None and tag == "br":
            self._buf.append(" ")

    def handle_endtag(self, tag):
        if self._cur_id is None:
            return
        # pop up to the matching open tag (tolerates unclosed inline elements)
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                for _, skipped in self._stack[i:]:
                    if skipped:
                        self._skip_depth -= 1
                del self._stack[i:]
                break
        else:
            return
        if not self._stack:
            if self._cur_id not in self.paragraphs:  # first occurrence of an id wins
                self.paragraphs[self._cur_id] = "".join(self._buf)
            self._cur_id = None

    def handle_data(self, data):
        if self._cur_id is not None and self._skip_depth == 0:
            self._buf.append(data)


def extract_paragraphs(page: str) -> dict[str, str]:
    """``{id: clean text}`` for every ``par_id``/``hd_id`` element of one HTML page (raw, unfiltered)."""
    parser = _ParagraphParser()
    parser.feed(page)
    parser.close()
    return {pid: clean(html.unescape(text)) for pid, text in parser.paragraphs.items()}


def keep(text: str) -> bool:
    """A usable paragraph: has letters (not pure number/markup) and at most MAX_WORDS words."""
    return bool(text) and has_letters(text) and word_count(text) <= MAX_WORDS


def help_dir(root: Path, lang: str) -> Path:
    """``<root>/usr/share/libreoffice/help/<lang>/text`` if it exists, else ``<root>/<lang>/text``."""
    for cand in (root / "usr/share/libreoffice/help" / lang / "text", root / lang / "text"):
        if cand.is_dir():
            return cand
    raise FileNotFoundError(f"no LibreOffice help text folder for {lang!r} under {root}")


def read_pages(text_dir: Path) -> dict[str, dict[str, str]]:
    """``{relative path: {id: text}}`` for every .html/.xhp page under ``text_dir``."""
    pages: dict[str, dict[str, str]] = {}
    for path in sorted(text_dir.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".xhp"):
            rel = path.relative_to(text_dir).as_posix()
            pages[rel] = extract_paragraphs(path.read_text(encoding="utf-8", errors="replace"))
    return pages


def align(
    src_pages: dict[str, dict[str, str]], tgt_pages: dict[str, dict[str, str]]
) -> dict[str, list[tuple[str, str]]]:
    """``{relative path: [(src, tgt), …]}`` aligned on (path, id), filtered, in sorted id order.

    Pairs whose two sides are identical (code signatures, untranslated names) are dropped: they teach
    nothing but copying and inflate BLEU on held-out sets.
    """
    out: dict[str, list[tuple[str, str]]] = {}
    for rel in sorted(src_pages.keys() & tgt_pages.keys()):
        s_pars, t_pars = src_pages[rel], tgt_pages[rel]
        pairs = []
        for pid in sorted(s_pars.keys() & t_pars.keys()):
            s, t = s_pars[pid], t_pars[pid]
            if keep(s) and keep(t) and s != t:
                pairs.append((s, t))
        if pairs:
            out[rel] = pairs
    return out


def read_corpus(root: Path, src_lang: str, tgt_lang: str) -> dict[str, list[tuple[str, str]]]:
    """Aligned pairs per page for an unpacked tree holding both languages."""
    return align(read_pages(help_dir(root, src_lang)), read_pages(help_dir(root, tgt_lang)))
