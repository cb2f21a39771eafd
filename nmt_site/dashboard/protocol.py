"""docs/protocol.md as HTML for the dashboard: the subset of Markdown that file uses (a title, paragraphs,
``-`` lists with indented continuation lines, inline code), escaped."""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from translator.protocol import protocol_text


def _inline(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text))


def markdown_html(text: str) -> SafeString:
    html: list[str] = []
    items: list[str] | None = None  # the open list's items
    paragraph: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            html.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal items
        if items is not None:
            html.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items = None

    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith("# "):
            continue  # the page has its own title
        if not stripped:
            flush_paragraph()
            flush_list()
        elif line.startswith("- "):
            flush_paragraph()
            items = [] if items is None else items
            items.append(stripped[2:])
        elif items is not None and line.startswith("  "):
            items[-1] += " " + stripped
        else:
            flush_list()
            paragraph.append(stripped)
    flush_paragraph()
    flush_list()
    return mark_safe("\n".join(html))  # noqa: S308 - every piece of text went through escape()


def protocol_html() -> SafeString:
    return markdown_html(protocol_text())
