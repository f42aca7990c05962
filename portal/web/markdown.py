"""Markdown in descriptions: rendered (CommonMark, raw HTML off) and then sanitized with nh3, so a
descriptor can format its text but never inject markup, scripts or `javascript:` links."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Long enough for any description; a longer one is cut before rendering rather than costing time.
MAX_MARKDOWN_CHARS = 20_000
# Page structure (h1/h2) belongs to the page, not to a description: such headings keep their text only.
ALLOWED_TAGS = frozenset({"p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "br",
                          "h3", "h4", "h5", "h6", "hr", "del", "table", "thead", "tbody", "tr", "th", "td"})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def render_markdown(text: object) -> Markup:
    """Safe HTML for a description written in Markdown; empty for anything that is not text."""
    if not isinstance(text, str) or not text.strip():
        return Markup("")
    html = _renderer.render(text[:MAX_MARKDOWN_CHARS])
    cleaned = nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                        url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer")
    return Markup(cleaned)  # noqa: S704 - sanitized by nh3 just above
