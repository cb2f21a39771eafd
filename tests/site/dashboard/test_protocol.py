"""The dashboard shows docs/protocol.md, the same text every evaluate report stores."""

import pytest
from django.test import Client

from nmt_site.dashboard.protocol import markdown_html
from translator.protocol import PROTOCOL_FILE, protocol_text

from .reports import stored_run


def test_markdown_subset_is_rendered_and_escaped():
    html = markdown_html("# Title\n\nIntro `code` <b>\nmore.\n\n- one\n  continued\n- two\nAfter.\n")
    assert "Title" not in html
    assert "<p>Intro <code>code</code> &lt;b&gt; more.</p>" in html
    assert "<ul><li>one continued</li><li>two</li></ul>" in html
    assert html.endswith("<p>After.</p>")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/dashboard/", "run"])
def test_pages_show_the_protocol_file(path):
    run = stored_run()
    url = f"/dashboard/runs/{run.id}/" if path == "run" else path
    html = Client().get(url).content.decode()
    assert str(markdown_html(protocol_text())) in html
    assert PROTOCOL_FILE.name == "protocol.md" and "paired bootstrap" in protocol_text()
