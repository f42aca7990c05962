"""Fill patterns, so stacked areas and stage boxes differ by texture as well as colour."""

from __future__ import annotations

from portal.metrics.charts.svg import PALETTE, num

# (rotation in degrees, gap between lines); index 0 is solid.
_TEXTURES = ((None, 0), (45, 6), (-45, 6), (0, 5), (90, 5), (45, 3))


def pattern_defs(chart_id: str, count: int) -> str:
    """One <pattern> per band: the band's colour with white lines at its own angle (band 0 is solid)."""
    parts = []
    for index in range(count):
        colour = PALETTE[index % len(PALETTE)]
        angle, gap = _TEXTURES[index % len(_TEXTURES)]
        pattern_id = pattern_id_for(chart_id, index)
        if angle is None:
            parts.append(f'<pattern id="{pattern_id}" width="8" height="8" patternUnits="userSpaceOnUse">'
                         f'<rect width="8" height="8" fill="{colour}"/></pattern>')
            continue
        parts.append(
            f'<pattern id="{pattern_id}" width="{num(gap)}" height="{num(gap)}" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate({num(angle)})"><rect width="{num(gap)}" height="{num(gap)}" fill="{colour}"/>'
            f'<line x1="0" y1="0" x2="0" y2="{num(gap)}" stroke="#ffffff" stroke-width="1.5" '
            f'stroke-opacity="0.7"/></pattern>')
    return "".join(parts)


def pattern_id_for(chart_id: str, index: int) -> str:
    return f"{chart_id}-fill-{index}"


def pattern_fill(chart_id: str, index: int) -> str:
    return f"url(#{pattern_id_for(chart_id, index)})"
