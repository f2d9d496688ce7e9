"""Bar charts drawn on the server as inline SVG (no chart library, no script): one
horizontal bar per variant, its 95% interval as an error bar. The geometry is computed
here; `templates/charts.html` only draws it, so a test can check where a bar ends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 640
LABEL_WIDTH = 190
RIGHT_MARGIN = 16
ROW = 40  # the label and, under it, the value with its interval
TOP = 8
AXIS = 22


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as printed under the label
    y: float
    width: float  # from the left edge of the plot
    low: float | None  # error bar ends, in x from the plot's left edge
    high: float | None


@dataclass(frozen=True)
class Tick:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str  # read by screen readers (role="img")
    bars: list[Bar]
    ticks: list[Tick]
    width: int = WIDTH
    left: int = LABEL_WIDTH
    row: int = ROW

    @property
    def plot_width(self) -> int:
        return self.width - self.left - RIGHT_MARGIN

    @property
    def height(self) -> int:
        return TOP + self.row * len(self.bars) + AXIS


@dataclass(frozen=True)
class Value:
    """One bar's numbers: the estimate and, when known, its interval."""

    label: str
    estimate: float | None
    low: float | None = None
    high: float | None = None


def bar_chart(
    title: str,
    values: Sequence[Value],
    *,
    scale: tuple[float, float] | None = None,
    show: Callable[[float], str] = lambda v: f"{v:.2f}",
    ticks: int = 4,
) -> BarChart:
    """Bars on a common axis from `scale` (default: 0 to the largest value or interval
    end). A variant without data gets an empty row saying so."""
    tops = [v for value in values for v in (value.estimate, value.high) if v is not None]
    lo, hi = scale if scale is not None else (0.0, max([*tops, 0.0]) or 1.0)
    span = hi - lo or 1.0
    plot = WIDTH - LABEL_WIDTH - RIGHT_MARGIN

    def x(v: float) -> float:
        return round(min(max((v - lo) / span, 0.0), 1.0) * plot, 1)

    bars = []
    for i, value in enumerate(values):
        y = TOP + i * ROW
        if value.estimate is None:
            bars.append(Bar(value.label, "no data yet", y, 0.0, None, None))
            continue
        interval = value.low is not None and value.high is not None
        text = show(value.estimate)
        if interval:
            text += f" ({show(value.low or 0.0)}–{show(value.high or 0.0)})"
        bars.append(
            Bar(
                value.label,
                text,
                y,
                x(value.estimate),
                x(value.low) if value.low is not None and interval else None,
                x(value.high) if value.high is not None and interval else None,
            )
        )
    marks = [Tick(x(lo + span * k / ticks), show(lo + span * k / ticks)) for k in range(ticks + 1)]
    description = f"{title}: " + "; ".join(f"{b.label} {b.text}" for b in bars)
    return BarChart(title, description, bars, marks)


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def money(value: float) -> str:
    return f"{value:,.2f}"
