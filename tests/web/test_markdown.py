"""Descriptions are Markdown, rendered and sanitized: formatting yes, markup, scripts and unsafe links no."""

from __future__ import annotations

import pytest

from portal.catalog.store import PreparedEntity, write_entities
from portal.web.markdown import render_markdown

HOSTILE = [
    ("<script>alert(1)</script>", "<script"),
    ("<img src=x onerror=alert(1)>", "<img"),
    ("[click](javascript:alert(1))", 'href="javascript'),
    ("[click](JaVaScRiPt:alert(1))", 'href="JaVaScRiPt'),
    ("[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", 'href="data:'),
    ("[click](vbscript:msgbox(1))", 'href="vbscript'),
    ('<a href="https://x.example" onclick="alert(1)">x</a>', '<a href="https://x.example" onclick'),
    ("![pixel](https://tracker.example/p.gif)", "<img"),
    ("<iframe src=https://evil.example></iframe>", "<iframe"),
    ("<svg onload=alert(1)>", "<svg"),
]


@pytest.mark.parametrize("source, forbidden", HOSTILE)
def test_hostile_markdown_is_defused(source, forbidden):
    html = str(render_markdown(source))
    assert forbidden.lower() not in html.lower(), html


def test_formatting_and_safe_links_survive():
    html = str(render_markdown("**Fast** paths, *no* tickets.\n\n- one\n- two\n\n[Guide](https://docs.example/x) "
                               "and `code`"))
    assert "<strong>Fast</strong>" in html and "<em>no</em>" in html and "<li>one</li>" in html
    assert '<a href="https://docs.example/x" rel="noopener noreferrer">Guide</a>' in html
    assert "<code>code</code>" in html


@pytest.mark.parametrize("value", [None, 42, ["x"], {"a": 1}, "", "   "])
def test_anything_but_text_renders_nothing(value):
    assert str(render_markdown(value)) == ""


def test_a_huge_description_is_cut_not_rendered_whole():
    assert len(str(render_markdown("a" * 500_000))) < 25_000


def test_the_entity_page_renders_its_description_safely(client, session):
    entity = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
              "metadata": {"name": "md-service", "description":
                           "**Bold** claim [docs](https://docs.example) [bad](javascript:alert(1)) <img src=x onerror=alert(1)>"},
              "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"}}
    write_entities(session, [PreparedEntity(entity, "file:/srv/x.yaml", "file:/srv/x.yaml")])
    session.commit()
    page = client.get("/catalog/default/component/md-service", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "<strong>Bold</strong>" in page.text and 'href="https://docs.example"' in page.text
    # The unsafe link stays visible as text, never as a link; raw HTML is escaped.
    assert 'href="javascript' not in page.text.lower() and "<img src=x" not in page.text
