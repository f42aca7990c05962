"""Charts rendered on the server as accessible SVG: no JavaScript, no charting library.

Each function returns a `Chart` (id, kind, title, description, svg, table); pages wrap it with the
`metrics/_chart.html` macro (the data table behind a toggle, CSV and JSON downloads)."""

from portal.metrics.charts.area import cumulative_flow
from portal.metrics.charts.badge import tier_badge
from portal.metrics.charts.bar import HORIZONTAL, VERTICAL, bar_chart
from portal.metrics.charts.histogram import histogram
from portal.metrics.charts.line import line_chart
from portal.metrics.charts.series import Series
from portal.metrics.charts.sparkline import Trend, sparkline, trend
from portal.metrics.charts.svg import NO_DATA, Chart
from portal.metrics.charts.vsm import value_stream_map

__all__ = [
    "HORIZONTAL", "NO_DATA", "VERTICAL", "Chart", "Series", "Trend", "bar_chart", "cumulative_flow", "histogram",
    "line_chart", "sparkline", "tier_badge", "trend", "value_stream_map",
]
