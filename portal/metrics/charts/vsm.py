"""The value stream map: a box per stage (PT, LT, %C&A), the timeline ladder (wait above, work below),
the biggest wait highlighted, and the totals (ΣLT, ΣPT, activity ratio, rolled %C&A).

Drawn from the value-stream answer of the metrics API:
`{stages: [{id, type, items, leadTime, processTime, percentCompleteAccurate}],
  totals: {leadTime, processTime, activityRatio, rolledPercentCompleteAccurate}}`, times in seconds,
shares from 0 to 1."""

from __future__ import annotations

from dataclasses import dataclass

from portal.metrics.chart_data import ChartTable
from portal.metrics.charts.formatting import COUNT, DURATION, PERCENT, format_value
from portal.metrics.charts.svg import (
    GRID_COLOUR,
    MUTED_COLOUR,
    PALETTE,
    SMALL_FONT,
    TEXT_COLOUR,
    WIDTH,
    Chart,
    chart_id_for,
    clip,
    empty_chart,
    finite_number,
    frame,
    heading,
    line,
    rect,
    text,
    xml_text,
)

KIND = "vsm"
PER_ROW = 3  # three boxes a row keeps the text readable on a 320 px phone
BOX_WIDTH, BOX_HEIGHT, GAP = 144, 104, 12
LADDER_HEIGHT = 54
ROW_HEIGHT = BOX_HEIGHT + LADDER_HEIGHT + 22
MAX_STAGES = 30
HIGHLIGHT = PALETTE[1]
WAIT_FILL, WORK_FILL = "#f6f8fa", "#ffffff"


@dataclass(frozen=True)
class StageFigures:
    id: str
    type: str
    items: float | None
    lead_time: float | None
    process_time: float | None
    accurate: float | None

    @property
    def wait_time(self) -> float | None:
        if self.lead_time is None:
            return None
        return max(self.lead_time - (self.process_time or 0.0), 0.0)


def _non_negative(value: object) -> float | None:
    number = finite_number(value)
    return number if number is not None and number >= 0 else None


def _share(value: object) -> float | None:
    number = _non_negative(value)
    return number if number is not None and number <= 1 else None


def read_stages(answer: object) -> tuple[list[StageFigures], int]:
    """The usable stages of an answer, and how many entries were not stages (skipped, never fatal)."""
    stages = answer.get("stages") if isinstance(answer, dict) else None
    if not isinstance(stages, list):
        return [], 0
    usable, skipped = [], 0
    for item in stages[:MAX_STAGES]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            skipped += 1
            continue
        usable.append(StageFigures(
            id=item["id"].strip()[:100], type="work" if item.get("type") == "work" else "wait",
            items=_non_negative(item.get("items")), lead_time=_non_negative(item.get("leadTime")),
            process_time=_non_negative(item.get("processTime")), accurate=_share(item.get("percentCompleteAccurate"))))
    return usable, skipped + max(len(stages) - MAX_STAGES, 0)


def value_stream_map(answer: object, *, title: str = "Value stream map", chart_id: str | None = None) -> Chart:
    """The drawing of one value-stream answer; an answer without stages draws the "no data" chart."""
    stages, skipped = read_stages(answer)
    totals = answer.get("totals") if isinstance(answer, dict) and isinstance(answer.get("totals"), dict) else {}
    total_lead = _non_negative(totals.get("leadTime"))
    total_process = _non_negative(totals.get("processTime"))
    ratio = _share(totals.get("activityRatio"))
    rolled = _share(totals.get("rolledPercentCompleteAccurate"))
    table = _table(stages, total_lead, total_process, ratio, rolled)
    if not stages or all(stage.lead_time is None for stage in stages):
        return empty_chart(KIND, title, chart_id, table=table)
    identity = chart_id_for(KIND, title, chart_id)
    biggest = max((stage for stage in stages if stage.wait_time), key=lambda stage: stage.wait_time, default=None)
    rows = -(-len(stages) // PER_ROW)
    height = 40 + rows * ROW_HEIGHT + 64
    body = [heading(title)]
    for index, stage in enumerate(stages):
        row, column = divmod(index, PER_ROW)
        body.extend(_stage(stage, 12 + column * (BOX_WIDTH + GAP), 40 + row * ROW_HEIGHT, stage is biggest))
    body.extend(_totals(40 + rows * ROW_HEIGHT + 8, total_lead, total_process, ratio, rolled))
    description = _describe(title, stages, biggest, total_lead, total_process, ratio, rolled, skipped)
    return Chart(identity, KIND, title, description, frame(KIND, identity, title, description, body, height=height),
                 table)


def _stage(stage: StageFigures, x: float, y: float, biggest: bool) -> list[str]:
    outline = HIGHLIGHT if biggest else TEXT_COLOUR
    dash = "" if stage.type == "work" else ' stroke-dasharray="5 3"'
    parts = [f'<g class="stage stage-{stage.type}{" biggest-wait" if biggest else ""}" '
             f'data-stage="{xml_text(stage.id)}">',
             rect(x, y, BOX_WIDTH, BOX_HEIGHT, fill=WORK_FILL if stage.type == "work" else WAIT_FILL,
                  stroke=outline, extra=f' stroke-width="{3 if biggest else 1.5}"{dash}'),
             text(x + 8, y + 18, clip(stage.id, 17), weight="600", size=SMALL_FONT),
             text(x + BOX_WIDTH - 8, y + 92, stage.type, anchor="end", size=SMALL_FONT - 1, colour=MUTED_COLOUR),
             text(x + 8, y + 38, f"PT {format_value(stage.process_time, DURATION, short=True)}", size=SMALL_FONT),
             text(x + 8, y + 56, f"LT {format_value(stage.lead_time, DURATION, short=True)}", size=SMALL_FONT),
             text(x + 8, y + 74, f"%C&A {format_value(stage.accurate, PERCENT)}", size=SMALL_FONT),
             text(x + 8, y + 92, f"{format_value(stage.items, COUNT)} items", size=SMALL_FONT, colour=MUTED_COLOUR)]
    # The ladder: the wait (LT − PT) on the upper rung, the work (PT) on the lower one.
    upper, lower = y + BOX_HEIGHT + 18, y + BOX_HEIGHT + LADDER_HEIGHT - 4
    parts.append(line(x, upper, x + BOX_WIDTH * 0.55, upper, colour=outline if biggest else MUTED_COLOUR,
                      width=3 if biggest else 2))
    parts.append(line(x + BOX_WIDTH * 0.55, upper, x + BOX_WIDTH * 0.55, lower, colour=MUTED_COLOUR))
    parts.append(line(x + BOX_WIDTH * 0.55, lower, x + BOX_WIDTH, lower, colour=PALETTE[0], width=2))
    wait_label = f"wait {format_value(stage.wait_time, DURATION, short=True)}"
    parts.append(text(x, upper - 5, wait_label, size=SMALL_FONT - 1,
                      colour=HIGHLIGHT if biggest else TEXT_COLOUR, weight="600" if biggest else None))
    if biggest:
        parts.append(text(x, lower + 2, "biggest wait", size=SMALL_FONT - 1, colour=HIGHLIGHT, weight="600"))
    parts.append(text(x + BOX_WIDTH, lower - 5, f"work {format_value(stage.process_time, DURATION, short=True)}",
                      anchor="end", size=SMALL_FONT - 1))
    parts.append("</g>")
    return parts


def _totals(y: float, lead: float | None, process: float | None, ratio: float | None,
            rolled: float | None) -> list[str]:
    return [
        line(12, y, WIDTH - 12, y, colour=GRID_COLOUR),
        text(12, y + 22, f"ΣLT {format_value(lead, DURATION, short=True)}", weight="600"),
        text(WIDTH / 2, y + 22, f"ΣPT {format_value(process, DURATION, short=True)}", weight="600"),
        text(12, y + 46, f"Activity ratio {format_value(ratio, PERCENT)}", weight="600"),
        text(WIDTH / 2, y + 46, f"Rolled %C&A {format_value(rolled, PERCENT)}", weight="600"),
    ]


def _table(stages: list[StageFigures], lead: float | None, process: float | None, ratio: float | None,
           rolled: float | None) -> ChartTable:
    rows = [(stage.id, stage.type, stage.items, stage.lead_time, stage.process_time, stage.accurate,
             stage.process_time / stage.lead_time if stage.lead_time and stage.process_time is not None else None)
            for stage in stages]
    rows.append(("total", "", None, lead, process, rolled, ratio))
    return ChartTable(("stage", "type", "items", "leadTime", "processTime", "percentCompleteAccurate",
                       "activityRatio"), tuple(rows), (None, None, COUNT, DURATION, DURATION, PERCENT, PERCENT))


def _describe(title: str, stages: list[StageFigures], biggest: StageFigures | None, lead: float | None,
              process: float | None, ratio: float | None, rolled: float | None, skipped: int) -> str:
    text_ = (f"{title}: {len(stages)} stages; total lead time {format_value(lead, DURATION)}, total process time "
             f"{format_value(process, DURATION)}, activity ratio {format_value(ratio, PERCENT)}, "
             f"rolled %C&A {format_value(rolled, PERCENT)}.")
    if biggest is not None:
        text_ += f" The biggest wait is in {biggest.id}: {format_value(biggest.wait_time, DURATION)}."
    if skipped:
        text_ += f" {skipped} entries were not stages and were left out."
    return text_
