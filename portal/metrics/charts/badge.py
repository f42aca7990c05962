"""The DORA performance tier as a small badge: the tier's name is always written, the colour only helps."""

from __future__ import annotations

from markupsafe import Markup

from portal.metrics.charts.svg import Chart, chart_id_for, xml_text

KIND = "tier"
# Text colours reach 4.5:1 on their backgrounds; each tier also has its own number of filled dots.
TIERS = {
    "elite": ("Elite", "#0b5e3c", "#d8f3e5", 4),
    "high": ("High", "#0b4f8a", "#dcecfb", 3),
    "medium": ("Medium", "#6b4a00", "#fbefd0", 2),
    "low": ("Low", "#8f2b0b", "#fbe1d8", 1),
}
UNKNOWN = ("No tier", "#3d4a57", "#eef1f4", 0)
WIDTH, HEIGHT = 112, 26


def tier_badge(tier: str | None, *, metric: str | None = None, chart_id: str | None = None) -> Chart:
    """`elite`, `high`, `medium` or `low` (any case); anything else reads "No tier" (too little data)."""
    key = (tier or "").strip().lower()
    label, ink, paper, dots = TIERS.get(key, UNKNOWN)
    title = f"{metric}: {label}" if metric else f"DORA tier: {label}"
    description = (f"{'The ' + metric if metric else 'The performance'} tier is {label.lower()}"
                   + (f", {dots} of 4." if dots else ": not enough data to tell."))
    identity = chart_id_for(KIND, title, chart_id)
    circles = "".join(
        f'<circle cx="{76 + 8 * index}" cy="13" r="3" fill="{ink if index < dots else paper}" stroke="{ink}"/>'
        for index in range(4))
    svg = Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-tier tier-{key if key in TIERS else "none"}" '
        f'id="{identity}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="{identity}-title {identity}-desc"><title id="{identity}-title">{xml_text(title)}</title>'
        f'<desc id="{identity}-desc">{xml_text(description)}</desc>'
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" rx="12" fill="{paper}" stroke="{ink}"/>'
        f'<text x="10" y="18" font-size="13" font-weight="600" fill="{ink}" '
        f'font-family="system-ui, sans-serif">{xml_text(label)}</text>{circles}</svg>')
    return Chart(identity, KIND, title, description, svg)
