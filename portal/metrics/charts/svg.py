"""The SVG plumbing every chart shares: escaping, finite coordinates, the accessible frame and the empty chart."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape as _xml_escape

from markupsafe import Markup

from portal.metrics.chart_data import ChartTable

# Wide enough for five axis labels, narrow enough that 15-unit text is still ~10 px on a 320 px screen.
WIDTH = 480
HEIGHT = 300
FONT_SIZE = 15
SMALL_FONT = 13
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', sans-serif"
TEXT_COLOUR = "#1f2328"
MUTED_COLOUR = "#57606a"  # 6.1:1 on white
GRID_COLOUR = "#d0d7de"
# Okabe–Ito hues darkened until each reaches 3:1 against white (WCAG 1.4.11 for graphics); series
# also differ by dash pattern, marker shape and a text label, so colour is never the only cue.
PALETTE = ("#0b5fa5", "#b3440d", "#08735a", "#8e3f86", "#75590a", "#3d4a57")
NO_DATA = "No data in this window"
_ID_UNSAFE = re.compile(r"[^a-z0-9-]+")


# What XML 1.0 may not carry: control characters (but tab and newline), lone surrogates (which
# cannot even be encoded as UTF-8) and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Text for an element body or an attribute: &, <, >, and both quotes escaped; characters XML
    cannot carry dropped."""
    return _xml_escape(_NOT_XML.sub("", str(value)), {'"': "&quot;", "'": "&#39;"})


def num(value: float) -> str:
    """A coordinate for an attribute; a non-finite one is a bug in the chart, never something to emit."""
    if not math.isfinite(value):
        raise ValueError(f"non-finite coordinate {value!r}")
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def finite_number(value: object) -> float | None:
    """A plottable number, or None for a gap: bools, text, NaN and infinities are not measurements."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond a double
        return None
    return number if math.isfinite(number) else None


def chart_id_for(kind: str, title: str, chart_id: str | None) -> str:
    """An id safe in XML and CSS: the caller's (cleaned), else a stable one from the kind and title."""
    if chart_id:
        cleaned = _ID_UNSAFE.sub("-", chart_id.lower()).strip("-")[:60]
        if cleaned:
            return cleaned if cleaned[0].isalpha() else f"chart-{cleaned}"
    digest = hashlib.sha1(f"{kind}\0{title}".encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:10]
    return f"{kind}-{digest}"


@dataclass(frozen=True)
class Chart:
    """A rendered chart: the SVG (safe to put in a page), its words and the data behind it."""

    id: str
    kind: str
    title: str
    description: str
    svg: Markup
    table: ChartTable = field(default_factory=ChartTable)

    def __post_init__(self) -> None:
        # Pages show the title and description as text too: the same characters are dropped there.
        object.__setattr__(self, "title", _NOT_XML.sub("", self.title))
        object.__setattr__(self, "description", _NOT_XML.sub("", self.description))

    def __html__(self) -> str:
        return str(self.svg)


def text(x: float, y: float, body: object, *, anchor: str = "start", size: int = FONT_SIZE,
         colour: str = TEXT_COLOUR, weight: str | None = None, extra: str = "") -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" font-size="{size}" fill="{colour}"'
            f'{bold}{extra}>{xml_text(body)}</text>')


def line(x1: float, y1: float, x2: float, y2: float, *, colour: str = GRID_COLOUR, width: float = 1,
         dash: str | None = None) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" stroke="{colour}" '
            f'stroke-width="{num(width)}"{dashed}/>')


def rect(x: float, y: float, width: float, height: float, *, fill: str, stroke: str | None = None,
         extra: str = "") -> str:
    outline = f' stroke="{stroke}"' if stroke else ""
    return (f'<rect x="{num(x)}" y="{num(y)}" width="{num(max(width, 0.0))}" height="{num(max(height, 0.0))}" '
            f'fill="{fill}"{outline}{extra}/>')


def frame(kind: str, chart_id: str, title: str, description: str, body: list[str], *,
          width: int = WIDTH, height: int = HEIGHT, defs: str = "") -> Markup:
    """The outer <svg>: responsive (viewBox, 100% wide), announced as one image by its title and description."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{chart_id}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" role="img" '
        f'aria-labelledby="{title_id} {desc_id}" font-family="{xml_text(FONT_FAMILY)}">',
        f'<title id="{title_id}">{xml_text(title)}</title>',
        f'<desc id="{desc_id}">{xml_text(description)}</desc>',
    ]
    if defs:
        parts.append(f"<defs>{defs}</defs>")
    parts.append(rect(0, 0, width, height, fill="#ffffff"))
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))


def empty_chart(kind: str, title: str, chart_id: str | None = None, *, table: ChartTable | None = None,
                message: str = NO_DATA) -> Chart:
    """The same frame with one clear sentence, so an empty window never looks like a broken chart."""
    identity = chart_id_for(kind, title, chart_id)
    description = f"{title}: {message.rstrip('.')}."
    body = [
        rect(1, 1, WIDTH - 2, HEIGHT - 2, fill="#f6f8fa", stroke=GRID_COLOUR),
        text(WIDTH / 2, HEIGHT / 2, message, anchor="middle", colour=MUTED_COLOUR),
    ]
    return Chart(identity, kind, title, description, frame(kind, identity, title, description, body),
                 table or ChartTable())


def heading(title: str) -> str:
    """The visible title (screen readers get the <title>; this is for eyes)."""
    return text(12, 22, clip(title, 60), size=FONT_SIZE, weight="600")


def clip(label: object, limit: int) -> str:
    """Shorten a label to `limit` characters with an ellipsis (the full text stays in the data table)."""
    label = str(label)
    return label if len(label) <= limit else label[: limit - 1] + "…"
