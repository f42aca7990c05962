"""safe_href: only http(s), mailto and the portal's own paths become links, whatever the disguise."""

from __future__ import annotations

import pytest

from portal.web.links import is_external, safe_href
from portal.web.rendering import build_templates


@pytest.mark.parametrize("url", [
    "https://example.com/docs", "http://example.com", "HTTPS://EXAMPLE.COM/x", "mailto:team@example.com",
    "/catalog/default/component/x", "/products?x=1#y",
])
def test_safe_urls_are_links(url):
    assert safe_href(url) == url


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "\x00javascript:alert(1)",
    "\x01\x1fjavascript:alert(1)", "java\tscript:alert(1)", "java\nscript:alert(1)", "java\rscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "DATA:text/html;base64,PHNjcmlwdD4=",
    "&#106;avascript:alert(1)", "&#x6A;avascript:alert(1)", "javascript&colon;alert(1)", "%6Aavascript:alert(1)",
    "//evil.example/x", "/\\evil.example/x", "\\\\evil.example", "file:///etc/passwd", "ftp://example.com",
    "relative/path", "", "   ", None, 42, ["https://example.com"], {"url": "https://example.com"},
    "https://exa\x00mple.com/", "javascript\x00:alert(1)",
])
def test_everything_else_is_text(url):
    assert safe_href(url) is None


def test_tabs_and_newlines_inside_a_safe_url_are_dropped_as_browsers_do():
    assert safe_href(" https://exa\tmple.com/\n") == "https://example.com/"


def test_external_means_absolute_http():
    assert is_external("https://example.com") and is_external("HTTP://x")
    assert not is_external("/catalog") and not is_external("mailto:a@b.c") and not is_external(None)


@pytest.mark.parametrize("url, expected", [
    ("javascript:alert(1)", '<span class="unlinked"'),
    ("https://example.com/a?b=1&c=2", '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">'),
    ("/catalog", '<a href="/catalog">'),
])
def test_data_link_macro(url, expected):
    macros = build_templates().env.get_template("_macros.html").module
    html = str(macros.data_link(url, "Docs"))
    assert expected in html
    assert "href=\"javascript" not in html
