"""Ratios computed from a financial statement (R-08); inputs for the later scorecard."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

HUNDREDTH = Decimal("0.01")
TEN_THOUSANDTH = Decimal("0.0001")


def _ratio(numerator, denominator, places: Decimal = HUNDREDTH) -> Decimal | None:
    if numerator is None or denominator in (None, 0):
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def _percent(numerator, denominator) -> Decimal | None:
    value = _ratio(numerator, denominator, TEN_THOUSANDTH)
    return None if value is None else (value * 100).quantize(HUNDREDTH)


@dataclass(frozen=True)
class Ratios:
    current_ratio: Decimal | None
    quick_ratio: Decimal | None
    debt_ratio: Decimal | None  # %
    gross_margin: Decimal | None  # %
    operating_margin: Decimal | None  # %
    net_margin: Decimal | None  # %
    return_on_equity: Decimal | None  # %
    receivables_turnover: Decimal | None  # times per period
    inventory_turnover: Decimal | None  # times per period
    asset_turnover: Decimal | None  # times per period
    working_capital: Decimal | None


def ratios(statement) -> Ratios:
    s = statement
    quick_assets = None
    if s.current_assets is not None:
        quick_assets = s.current_assets - (s.inventory or 0)
    gross_profit = None
    if s.revenue is not None and s.cost_of_sales is not None:
        gross_profit = s.revenue - s.cost_of_sales
    working_capital = None
    if s.current_assets is not None and s.current_liabilities is not None:
        working_capital = s.current_assets - s.current_liabilities
    return Ratios(
        current_ratio=_ratio(s.current_assets, s.current_liabilities),
        quick_ratio=_ratio(quick_assets, s.current_liabilities),
        debt_ratio=_percent(s.total_liabilities, s.total_assets),
        gross_margin=_percent(gross_profit, s.revenue),
        operating_margin=_percent(s.operating_profit, s.revenue),
        net_margin=_percent(s.net_profit, s.revenue),
        return_on_equity=_percent(s.net_profit, s.equity),
        receivables_turnover=_ratio(s.revenue, s.accounts_receivable),
        inventory_turnover=_ratio(s.cost_of_sales, s.inventory),
        asset_turnover=_ratio(s.revenue, s.total_assets),
        working_capital=working_capital,
    )


RATIO_LABELS = {
    "current_ratio": _("流动比率"),
    "quick_ratio": _("速动比率"),
    "debt_ratio": _("资产负债率（%）"),
    "gross_margin": _("毛利率（%）"),
    "operating_margin": _("营业利润率（%）"),
    "net_margin": _("净利率（%）"),
    "return_on_equity": _("净资产收益率（%）"),
    "receivables_turnover": _("应收账款周转率（次）"),
    "inventory_turnover": _("存货周转率（次）"),
    "asset_turnover": _("总资产周转率（次）"),
    "working_capital": _("营运资金（元）"),
}
