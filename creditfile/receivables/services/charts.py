"""The payment-habit chart as plain SVG geometry, drawn by the template: no JavaScript
chart library to ship, and the chart prints and reads the same without a network."""

from dataclasses import dataclass
from decimal import Decimal

WIDTH = 600
HEIGHT = 160
TOP = 12
BOTTOM = 28  # room for the month labels
LEFT = 36


@dataclass(frozen=True)
class Bar:
    month: str
    days: Decimal | None
    invoices: int
    x: float
    y: float
    width: float
    height: float
    tone: str  # ok: on time; warn: up to 30 days late; bad: later


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    scale_max: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT

    @property
    def empty(self) -> bool:
        return not any(bar.invoices for bar in self.bars)

    @property
    def mid_label_y(self) -> float:
        return TOP + (self.baseline - TOP) / 2


def _tone(days: Decimal | None) -> str:
    if not days:
        return "ok"
    return "warn" if days <= 30 else "bad"


def _scale(top: Decimal) -> int:
    """A round top for the axis: 10, 30, 60, 90, 180, then whole hundreds."""
    for step in (10, 30, 60, 90, 180):
        if top <= step:
            return step
    return int((top + 99) // 100 * 100)


def days_late_chart(trend) -> Chart:
    """Bars of the weighted days late month by month; a month without settled invoices
    has no bar (which is not the same as a month paid on time)."""
    scale = _scale(max((days or Decimal(0) for _m, days, _n in trend), default=Decimal(0)))
    plot = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT) / max(len(trend), 1)
    bars = []
    for index, (month_end, days, count) in enumerate(trend):
        height = float((days or 0) / scale) * plot if count else 0.0
        if count and height < 2:
            height = 2.0  # an on-time month shows as a thin green bar, not as nothing
        bars.append(
            Bar(
                month=month_end.strftime("%Y-%m"),
                days=days,
                invoices=count,
                x=LEFT + index * slot + slot * 0.15,
                y=HEIGHT - BOTTOM - height,
                width=slot * 0.7,
                height=height,
                tone=_tone(days),
            )
        )
    return Chart(bars=bars, scale_max=scale)
