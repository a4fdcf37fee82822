"""The facts a scorecard reads (R-23), as plain JSON values stored with each evaluation.

`build_inputs` turns one customer's facts into the input dict and touches no database,
so a single evaluation (`gather_inputs`, a few ORM queries) and the rescore batch (a few
set-based queries for every customer at once) produce exactly the same inputs.
Decimals are stored as strings so the JSON keeps them exact; a missing fact is None.
"""

import calendar
import datetime
from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from types import SimpleNamespace

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy as _

from creditfile.customers.services.financials import ratios

RATING_MONTHS = 18

JUDGEMENT_KEYS = ("industry_reputation", "cooperation_attitude", "management_quality")
JUDGEMENT_CHOICES = {
    "good": _("好"),
    "fair": _("一般"),
    "poor": _("差"),
}

# How each input is labelled and shown: (label, kind). Kinds: money, percent, ratio,
# years, months, days, count, people, score, choice, flag, date.
INPUTS: dict[str, tuple] = {
    "years_in_business": (_("经营年限"), "years"),
    "registered_capital": (_("注册资本"), "money"),
    "employees": (_("员工人数"), "people"),
    "annual_sales": (_("年销售额"), "money"),
    "current_ratio": (_("流动比率"), "ratio"),
    "quick_ratio": (_("速动比率"), "ratio"),
    "debt_ratio": (_("资产负债率"), "percent"),
    "net_margin": (_("净利率"), "percent"),
    "return_on_equity": (_("净资产收益率"), "percent"),
    "equity": (_("净资产"), "money"),
    "revenue": (_("营业收入"), "money"),
    "statement_period_end": (_("财务报表截止日"), "date"),
    "statement_audited": (_("报表经审计"), "flag"),
    "payment_period_end": (_("付款记录截止日"), "date"),
    "average_days_late": (_("加权平均逾期天数"), "days"),
    "on_time_share": (_("按期付款比例"), "percent"),
    "max_days_late": (_("最长逾期天数"), "days"),
    "times_late_over_30": (_("逾期超过30天次数"), "count"),
    "times_late_over_90": (_("逾期超过90天次数"), "count"),
    "overdue_amount": (_("期末逾期金额"), "money"),
    "malicious_default": (_("恶意拖欠"), "flag"),
    "security_total": (_("有效担保与增信合计"), "money"),
    "external_rating_score": (_("外部评级评分"), "score"),
    "external_rating": (_("外部评级"), "text"),
    "external_rating_agency": (_("评级机构"), "text"),
    "external_rating_date": (_("评级报告日期"), "date"),
    "industry_reputation": (_("行业信誉"), "choice"),
    "cooperation_attitude": (_("合作态度"), "choice"),
    "management_quality": (_("经营管理者素质"), "choice"),
    "months_trading": (_("与本公司交易月数"), "months"),
    "expected_annual_purchases": (_("预计年采购额"), "money"),
}

STATEMENT_FIELDS = (
    "period_end",
    "audited",
    "current_assets",
    "total_assets",
    "current_liabilities",
    "total_liabilities",
    "equity",
    "revenue",
    "inventory",
    "net_profit",
)
# Statement lines the scorecard's ratios do not use; left out of the reads.
_UNUSED_LINES = {"cost_of_sales": None, "operating_profit": None, "accounts_receivable": None}
PAYMENT_FIELDS = (
    "period_end",
    "invoices_settled",
    "invoices_paid_on_time",
    "average_days_late",
    "max_days_late",
    "times_late_over_30",
    "times_late_over_90",
    "overdue_amount",
    "malicious_default",
)
CUSTOMER_FIELDS = (
    "established_on",
    "registered_capital",
    "employees",
    "annual_sales",
    "first_trade_on",
)


def whole_months(start: datetime.date, end: datetime.date) -> int:
    """Calendar months from start to end, counting only completed months (31 Jan → 28 Feb
    is one month)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if end.day < start.day and end.day != calendar.monthrange(end.year, end.month)[1]:
        months -= 1
    return max(months, 0)


def months_before(day: datetime.date, months: int) -> datetime.date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def _text(value) -> str | None:
    return None if value is None else str(value)


CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def _money(value) -> str | None:
    """Amounts always with two decimals, whether read from the database or not."""
    return None if value is None else str(Decimal(value).quantize(CENT))


def _share(part, whole) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP))


def build_inputs(
    *,
    as_of: datetime.date,
    customer: Mapping,
    statement: Mapping | None,
    payment: Mapping | None,
    security_total: Decimal,
    rating: Mapping | None,
    judgement: Mapping,
    expected_annual_purchases=None,
) -> dict:
    """The input dict from one customer's facts; every key is present, missing → None."""
    established = customer.get("established_on")
    years = None
    if established and established <= as_of:
        years = str((Decimal(whole_months(established, as_of)) / 12).quantize(TENTH, ROUND_DOWN))
    first_trade = customer.get("first_trade_on")
    inputs = {
        "years_in_business": years,
        "registered_capital": _money(customer.get("registered_capital")),
        "employees": customer.get("employees"),
        "annual_sales": _money(customer.get("annual_sales")),
        "months_trading": whole_months(first_trade, as_of)
        if first_trade and first_trade <= as_of
        else None,
    }
    if statement is not None:
        r = ratios(SimpleNamespace(**statement, **_UNUSED_LINES))
        inputs.update(
            current_ratio=_text(r.current_ratio),
            quick_ratio=_text(r.quick_ratio),
            debt_ratio=_text(r.debt_ratio),
            net_margin=_text(r.net_margin),
            return_on_equity=_text(r.return_on_equity),
            equity=_money(statement["equity"]),
            revenue=_money(statement["revenue"]),
            statement_period_end=statement["period_end"].isoformat(),
            statement_audited=bool(statement["audited"]),
        )
    else:
        inputs.update(
            dict.fromkeys(
                (
                    "current_ratio",
                    "quick_ratio",
                    "debt_ratio",
                    "net_margin",
                    "return_on_equity",
                    "equity",
                    "revenue",
                    "statement_period_end",
                    "statement_audited",
                )
            )
        )
    if payment is not None:
        inputs.update(
            payment_period_end=payment["period_end"].isoformat(),
            average_days_late=_text(payment["average_days_late"]),
            on_time_share=_share(payment["invoices_paid_on_time"], payment["invoices_settled"]),
            max_days_late=payment["max_days_late"],
            times_late_over_30=payment["times_late_over_30"],
            times_late_over_90=payment["times_late_over_90"],
            overdue_amount=_money(payment["overdue_amount"]),
            malicious_default=bool(payment["malicious_default"]),
        )
    else:
        inputs.update(
            dict.fromkeys(
                (
                    "payment_period_end",
                    "average_days_late",
                    "on_time_share",
                    "max_days_late",
                    "times_late_over_30",
                    "times_late_over_90",
                    "overdue_amount",
                    "malicious_default",
                )
            )
        )
    inputs["security_total"] = str(Decimal(security_total).quantize(CENT))
    if rating is not None:
        inputs.update(
            external_rating_score=_text(rating["score"]),
            external_rating=rating["rating"] or None,
            external_rating_agency=rating["agency"],
            external_rating_date=rating["rated_on"].isoformat(),
        )
    else:
        inputs.update(
            dict.fromkeys(
                (
                    "external_rating_score",
                    "external_rating",
                    "external_rating_agency",
                    "external_rating_date",
                )
            )
        )
    for key in JUDGEMENT_KEYS:
        inputs[key] = judgement.get(key) or None
    inputs["expected_annual_purchases"] = (
        None if expected_annual_purchases in (None, "") else str(expected_annual_purchases)
    )
    return inputs


def clean_judgement(*sources: Mapping | None) -> dict:
    """The judgement inputs, first source that gives one wins (finance > sales form > file).

    Raises WorkflowError for a value outside the bands of the evaluation form.
    """
    from creditfile.credit.services.errors import WorkflowError

    chosen = {}
    for key in JUDGEMENT_KEYS:
        for source in sources:
            value = (source or {}).get(key)
            if value in (None, ""):
                continue
            if value not in JUDGEMENT_CHOICES:
                raise WorkflowError(
                    _("%(label)s只能选择：好、一般、差。") % {"label": INPUTS[key][0]},
                    "invalid",
                    key,
                )
            chosen[key] = value
            break
    return chosen


def security_in_force(on_date: datetime.date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on_date)) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=on_date)
    )


def security_value(amount: Decimal, coverage_percent: Decimal) -> Decimal:
    """What a credit security is worth to us: the amount × the share it pays out."""
    return (amount * coverage_percent / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def gather_inputs(
    customer,
    as_of: datetime.date,
    judgement: Mapping | None = None,
    sales_form: Mapping | None = None,
    expected_annual_purchases=None,
) -> dict:
    """One customer's inputs as of a date, read from the file and the credit records."""
    from creditfile.credit.models import CreditSecurity, ExternalRating, PaymentSummary
    from creditfile.customers.models import BusinessStatus, FinancialStatement, Guarantee

    statement = (
        FinancialStatement.objects.filter(customer=customer, period_end__lte=as_of)
        .order_by("-period_end", "-id")
        .values(*STATEMENT_FIELDS)
        .first()
    )
    payment = (
        PaymentSummary.objects.filter(customer=customer, period_end__lte=as_of)
        .order_by("-period_end")
        .values(*PAYMENT_FIELDS)
        .first()
    )
    rating = (
        ExternalRating.objects.filter(
            customer=customer,
            rated_on__lte=as_of,
            rated_on__gte=months_before(as_of, RATING_MONTHS),
            score__isnull=False,
        )
        .order_by("-rated_on", "-id")
        .values("score", "rating", "agency", "rated_on")
        .first()
    )
    guaranteed = Guarantee.objects.filter(customer=customer).filter(
        security_in_force(as_of)
    ).aggregate(total=Sum("value"))["total"] or Decimal(0)
    secured = sum(
        (
            security_value(amount, coverage)
            for amount, coverage in CreditSecurity.objects.filter(customer=customer)
            .filter(security_in_force(as_of))
            .values_list("amount", "coverage_percent")
        ),
        Decimal(0),
    )
    on_file = (
        BusinessStatus.objects.filter(customer=customer)
        .exclude(cooperation_attitude="")
        .values_list("cooperation_attitude", flat=True)
        .first()
    )
    if expected_annual_purchases is None and sales_form:
        expected_annual_purchases = sales_form.get("expected_annual_purchases")
    return build_inputs(
        as_of=as_of,
        customer={name: getattr(customer, name) for name in CUSTOMER_FIELDS},
        statement=statement,
        payment=payment,
        security_total=guaranteed + secured,
        rating=rating,
        judgement=clean_judgement(
            judgement, sales_form, {"cooperation_attitude": on_file} if on_file else None
        ),
        expected_annual_purchases=expected_annual_purchases,
    )
