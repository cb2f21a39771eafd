"""Markdown through markdown-it-py (CommonMark with GFM tables and strikethrough, plus the front matter,
admonition, definition list and footnote plugins): only the text of inline content reaches the engine.

Front matter, code blocks and fences (in list items too), raw HTML, link and image targets, reference
definitions, inline code, autolinks, bare URLs, attribute lists ({#id}) and every marker (headings, lists,
quotes, emphasis, admonitions, table pipes) are never sent and come back byte for byte: the file is rewritten
by replacing the source spans of the text only, located from the parser's tokens and their line maps. Each
source line of a paragraph stays a line (the translation is spread over them), link text stays inside its
link, and characters of the translation that Markdown would read as markup are escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.helpers import parseLinkDestination, parseLinkTitle
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from ..safety import decode_text
from .base import ADDRESS, FormatHandler, Slot, block_source, translatable


def parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark")
        .enable(["table", "strikethrough"])
        .use(front_matter_plugin)
        .use(admon_plugin)
        .use(deflist_plugin)
        .use(footnote_plugin)
    )
    # Escapes and entities stay tokens of their own (text_special), so every text token is a verbatim slice of
    # the source.
    md.disable("text_join")
    return md


_MD = parser()
# Inside text: bare URLs and attribute lists ({#id .class}, {: .note}) are not prose.
_PROTECTED = re.compile(ADDRESS.pattern + r"|\{[:#.][^}\n]*\}")


@dataclass
class MarkdownDoc:
    text: str
    newline: str
    replacements: dict = field(default_factory=dict)  # (start, end) in text → new text
    warnings: list = field(default_factory=list)


def _skip_label(s: str, pos: int) -> int:
    """``pos`` at a "[": the index after its matching "]" (backslash escapes and nesting respected)."""
    depth = 0
    i = pos
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(s)


def _skip_link_tail(s: str, pos: int) -> int:
    """After a link's or image's "]": the index after "(destination "title")" or "[ref]", if there is one."""
    if pos < len(s) and s[pos] == "(":
        i = pos + 1
        while i < len(s) and s[i] in " \t\n":
            i += 1
        dest = parseLinkDestination(s, i, len(s))
        if dest.ok:
            i = dest.pos
        while i < len(s) and s[i] in " \t\n":
            i += 1
        title = parseLinkTitle(s, i, len(s))
        if title.ok:
            i = title.pos
        end = s.find(")", i)
        return end + 1 if end >= 0 else len(s)
    if pos < len(s) and s[pos] == "[":
        return _skip_label(s, pos)
    return pos


def _spans(content: str, children, in_table: bool) -> list[tuple[int, int, str | None]] | None:
    """Cover ``content`` (an inline token's source) in order with spans (start, end, engine text); engine text
    None = fixed. None when a token cannot be located (the inline is then left as it was)."""
    spans: list[tuple[int, int, str | None]] = []
    labels: list[int] = []  # where the spans of each open link's text start
    c = 0

    def fixed_to(pos: int) -> None:
        nonlocal c
        if pos > c:
            spans.append((c, pos, None))
            c = pos

    i = 0
    while i < len(children):
        tok = children[i]
        kind = tok.type
        if kind in ("text", "text_special"):
            piece = tok.content if kind == "text" else tok.markup
            s = content.find(piece, c)
            if s < 0 and in_table and "|" in piece:
                piece = piece.replace("|", "\\|")
                s = content.find(piece, c)
            if s < 0:
                return None
            fixed_to(s)
            spans.append((s, s + len(piece), tok.content))
            c = s + len(piece)
        elif kind in ("softbreak", "hardbreak"):
            s = content.find("\n", c)
            if s < 0:
                return None
            fixed_to(s + 1)
        elif kind == "code_inline":
            m = re.compile(r"(?<!`)" + re.escape(tok.markup) + r"(?!`)").search(content, c)
            if not m:
                return None
            close = re.compile(r"(?<!`)" + re.escape(tok.markup) + r"(?!`)").search(content, m.end())
            if not close:
                return None
            fixed_to(close.end())
        elif kind == "html_inline":
            s = content.find(tok.content, c)
            if s < 0:
                return None
            fixed_to(s + len(tok.content))
        elif kind == "image":
            s = content.find("![", c)
            if s < 0:
                return None
            fixed_to(_skip_link_tail(content, _skip_label(content, s + 1)))
        elif kind == "footnote_ref":
            s = content.find("[^", c)
            if s < 0:
                return None
            fixed_to(content.find("]", s) + 1)
        elif kind == "link_open" and tok.markup == "autolink":
            s = content.find("<", c)
            e = content.find(">", s) if s >= 0 else -1
            if e < 0:
                return None
            fixed_to(e + 1)
            while i < len(children) and children[i].type != "link_close":
                i += 1
        elif kind == "link_open":
            labels.append(len(spans))
        elif kind == "link_close":
            s = content.find("]", c)
            if s < 0:
                return None
            end = _skip_link_tail(content, s + 1)
            tail = content[s + 1 : end]
            start = labels.pop() if labels else len(spans)
            if not tail.startswith("(") and not tail.strip("[]"):
                # [label][] and [label]: the text is the reference's name; translating it would break the link.
                spans[start:] = [(a, b, None) for a, b, _ in spans[start:]]
            fixed_to(end)
        i += 1
    fixed_to(len(content))
    return spans


_LINE_START = re.compile(r"^(\s*)(#|>|[-+=:]|\d+(?=[.)])|!!!|\?\?\?)")
_INLINE_MARKUP = re.compile(r"[\\`*\[\]<>]|(?<!\w)_|_(?!\w)|~~|&(?=#?\w+;)")


def escape(text: str, line_start: bool, in_table: bool) -> str:
    """Translated text as Markdown text: characters that would start markup are backslash-escaped (they render
    as themselves), so a translation never adds emphasis, links, code, HTML or a new block."""
    out = _INLINE_MARKUP.sub(lambda m: "".join("\\" + ch for ch in m.group(0)), text)
    if in_table:
        out = out.replace("|", "\\|")
    if line_start:
        m = _LINE_START.match(out)
        if m:
            lead, marker = m.group(1), m.group(2)
            rest = out[m.end() :]
            out = lead + (marker + "\\" + rest[0] + rest[1:] if marker.isdigit() else "\\" + marker + rest)
    return out


class MarkdownHandler(FormatHandler):
    name = "md"
    extensions = (".md", ".markdown")
    label = "Markdown"

    def check(self, data: bytes) -> None:
        decode_text(data, self.label)

    def open(self, data: bytes) -> MarkdownDoc:
        text = decode_text(data, self.label)
        newline = "\r\n" if "\r\n" in text else "\n"
        return MarkdownDoc(text.replace("\r\n", "\n"), newline)

    def blocks(self, doc: MarkdownDoc) -> list[list[Slot]]:
        lines = doc.text.split("\n")
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        cursor: dict[int, int] = {}  # per source line: where the last located inline ended (table cells)
        out: list[list[Slot]] = []
        skipped = 0
        tokens = _MD.parse(doc.text)
        in_table = False
        for k, tok in enumerate(tokens):
            if tok.type in ("table_open", "table_close"):
                in_table = tok.type == "table_open"
            if tok.type != "inline" or not tok.map or not translatable(tok.content):
                continue
            title = k > 0 and tokens[k - 1].type == "admonition_title_open"
            block = self._block(doc, tok, lines, starts, cursor, in_table, title)
            if block is None:
                skipped += 1
            elif translatable(block_source(block)):
                out.append(block)
        if skipped:
            doc.warnings.append(f"{skipped} passage(s) could not be located in the source and were left as they were.")
        return out

    def _block(self, doc, tok, lines, starts, cursor, in_table: bool, title: bool) -> list[Slot] | None:
        content = tok.content
        # Where each character of the inline's content is in the file: its lines are the source lines from
        # tok.map[0] on, less their block prefixes (indentation, "> ", list markers).
        offsets: list[int] = []
        for n, piece in enumerate(content.split("\n")):
            row = tok.map[0] + n
            if row >= len(lines):
                return None
            line = lines[row]
            # A table cell's content has its escaped pipes ("\|") unescaped.
            source_piece = piece.replace("|", "\\|") if in_table and piece not in line else piece
            if title:  # !!! type "Title": the title is the quoted text at the end
                col = line.rfind(source_piece)
            else:
                col = line.find(source_piece, cursor.get(row, 0))
            if col < 0:
                return None
            cursor[row] = col + len(source_piece)
            p = starts[row] + col
            for ch in piece:
                if ch == "|" and source_piece is not piece and doc.text[p] == "\\":
                    p += 1
                offsets.append(p)
                p += 1
            offsets.append(p)  # the "\n" (or the end)
        spans = _spans(content, tok.children or [], in_table)
        if spans is None:
            return None
        block: list[Slot] = []
        for s, e, engine_text in spans:
            a, b = offsets[s], offsets[e] if e < len(offsets) else offsets[-1]
            if engine_text is None:
                block.append(Slot(doc.text[a:b], fixed=True))
                continue
            line_start = s == 0 or content[s - 1] == "\n" or not content[content.rfind("\n", 0, s) + 1 : s].strip()
            self._text_slots(doc, block, a, doc.text[a:b], engine_text, line_start, in_table)
        return _merge(block)

    @staticmethod
    def _text_slots(doc, block, start: int, source: str, engine_text: str, line_start: bool, in_table: bool):
        if source != engine_text:  # an escape or entity: one character of prose, written back escaped
            block.append(_TextSlot(engine_text, doc, start, start + len(source), line_start, in_table))
            return
        pos = 0
        for m in _PROTECTED.finditer(source):
            if m.start() > pos:
                block.append(
                    _TextSlot(source[pos : m.start()], doc, start + pos, start + m.start(), line_start, in_table)
                )
            block.append(Slot(m.group(0), fixed=True))
            pos = m.end()
            line_start = False
        if pos < len(source):
            block.append(
                _TextSlot(source[pos:], doc, start + pos, start + len(source), line_start and pos == 0, in_table)
            )

    def save(self, doc: MarkdownDoc) -> bytes:
        text = doc.text
        for (a, b), new in sorted(doc.replacements.items(), reverse=True):
            text = text[:a] + new + text[b:]
        return text.replace("\n", doc.newline).encode("utf-8")


class _TextSlot(Slot):
    """A translatable run of source text [start, end); writing it records a replacement of that span."""

    def __init__(self, text: str, doc: MarkdownDoc, start: int, end: int, line_start: bool, in_table: bool):
        super().__init__(text)
        self.doc, self.start, self.end = doc, start, end
        self.line_start, self.in_table = line_start, in_table
        self.setter = self._set

    def _set(self, value: str) -> None:
        self.doc.replacements[(self.start, self.end)] = escape(value, self.line_start, self.in_table)


def _merge(block: list[Slot]) -> list[Slot]:
    """Adjacent text slots (a word, an escaped "*", more words) become one slot over their joint span."""
    out: list[Slot] = []
    for slot in block:
        prev = out[-1] if out else None
        if isinstance(slot, _TextSlot) and isinstance(prev, _TextSlot) and prev.end == slot.start:
            merged = _TextSlot(prev.text + slot.text, prev.doc, prev.start, slot.end, prev.line_start, prev.in_table)
            out[-1] = merged
        else:
            out.append(slot)
    return out
