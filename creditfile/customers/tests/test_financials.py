from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from creditfile.customers.models import FinancialStatement
from creditfile.customers.services.financials import ratios


def statement(**overrides):
    values = dict(
        period_end=date(2025, 12, 31),
        source="customer",
        cash=Decimal("200000"),
        accounts_receivable=Decimal("500000"),
        inventory=Decimal("300000"),
        current_assets=Decimal("1200000"),
        total_assets=Decimal("3000000"),
        current_liabilities=Decimal("800000"),
        total_liabilities=Decimal("1800000"),
        equity=Decimal("1200000"),
        revenue=Decimal("6000000"),
        cost_of_sales=Decimal("4500000"),
        operating_profit=Decimal("600000"),
        net_profit=Decimal("450000"),
    )
    values.update(overrides)
    return FinancialStatement(**values)


def test_it_computes_the_usual_ratios_exactly():
    r = ratios(statement())
    assert r.current_ratio == Decimal("1.50")
    assert r.quick_ratio == Decimal("1.13")  # (1,200,000 − 300,000) / 800,000 = 1.125
    assert r.debt_ratio == Decimal("60.00")
    assert r.gross_margin == Decimal("25.00")
    assert r.operating_margin == Decimal("10.00")
    assert r.net_margin == Decimal("7.50")
    assert r.return_on_equity == Decimal("37.50")
    assert r.receivables_turnover == Decimal("12.00")
    assert r.inventory_turnover == Decimal("15.00")
    assert r.asset_turnover == Decimal("2.00")
    assert r.working_capital == Decimal("400000")
    assert all(isinstance(v, Decimal) for v in vars(r).values())


def test_it_leaves_a_ratio_empty_when_its_denominator_is_zero_or_missing():
    r = ratios(statement(current_liabilities=Decimal("0"), inventory=None, cost_of_sales=None))
    assert r.current_ratio is None
    assert r.inventory_turnover is None
    assert r.gross_margin is None


def test_it_rejects_a_balance_sheet_that_does_not_balance():
    with pytest.raises(ValidationError) as exc:
        statement(equity=Decimal("1000000")).clean()
    assert "equity" in exc.value.message_dict
    assert "200,000.00" in exc.value.message_dict["equity"][0]


def test_it_rejects_current_items_larger_than_totals():
    with pytest.raises(ValidationError) as exc:
        statement(current_assets=Decimal("4000000")).clean()
    assert "current_assets" in exc.value.message_dict
