"""The default scorecard 信用评分卡 v1 (R-23), explained factor by factor in
docs/credit-policy.md.

Sixteen factors in the 5C groups plus years in business and scale. Payment record
weighs most (35): how a customer has paid us is the best predictor of how it will
pay us. Every numeric factor's bands cover all values and move one way, so a better
figure never scores less (services.scoring.validate_scorecard checks it).
"""

import datetime
from decimal import Decimal

from creditfile.credit.choices import Direction, FactorGroup, VersionStatus
from creditfile.credit.models import Scorecard, ScorecardFactor

FROM = datetime.date(2000, 1, 1)

GRADE_BANDS = [
    {"grade": "A", "min_score": 80},
    {"grade": "B", "min_score": 65},
    {"grade": "C", "min_score": 50},
    {"grade": "D", "min_score": 0},
]

H, L, CAT = Direction.HIGHER_BETTER, Direction.LOWER_BETTER, Direction.CATEGORY
WAN = 10_000


def steps(direction, edges: list, points: list) -> list[dict]:
    """Contiguous bands from edges: edges [a, b] and 3 points → <a, a–b, ≥b."""
    assert len(points) == len(edges) + 1
    bounds = [None, *edges, None]
    return [
        {"min": bounds[i], "max": bounds[i + 1], "points": points[i]} for i in range(len(points))
    ]


def choices(good, fair, poor) -> list[dict]:
    return [
        {"value": "good", "points": good},
        {"value": "fair", "points": fair},
        {"value": "poor", "points": poor},
    ]


# (code, label, group, input_key, direction, weight, bands, missing_points, reasoning)
FACTORS = [
    # 品格：付款记录 35
    (
        "average_days_late",
        "加权平均逾期天数",
        FactorGroup.CHARACTER,
        "average_days_late",
        L,
        14,
        steps(L, [1, 10, 30, 60, 90], [100, 85, 60, 30, 10, 0]),
        50,
        "过去12个月按金额加权的平均逾期天数，直接反映客户的付款意愿和资金安排。"
        "10天以内多为结算流程造成，超过30天说明客户在用我们的钱周转，超过90天按惩戒规则处理。"
        "没有付款记录（新客户）给50分，既不奖励也不惩罚。",
    ),
    (
        "on_time_share",
        "按期付款比例",
        FactorGroup.CHARACTER,
        "on_time_share",
        H,
        10,
        steps(H, [50, 70, 85, 95], [0, 30, 60, 80, 100]),
        50,
        "按期付款的发票占已结清发票的比例。与平均逾期天数互补：平均数会被少数大额发票掩盖，"
        "这一项看的是付款习惯是否稳定。",
    ),
    (
        "times_late_over_30",
        "逾期超过30天次数",
        FactorGroup.CHARACTER,
        "times_late_over_30",
        L,
        8,
        steps(L, [1, 2, 3], [100, 60, 30, 0]),
        50,
        "12个月内逾期超过30天的次数。一次可能是偶发，三次以上说明拖欠已成习惯。",
    ),
    (
        "external_rating_score",
        "外部评级评分",
        FactorGroup.CHARACTER,
        "external_rating_score",
        H,
        3,
        steps(H, [40, 55, 70, 85], [0, 30, 60, 80, 100]),
        50,
        "资信调查公司18个月内报告的评分（0–100）。权重较低，因为多数客户没有报告，"
        "而且报告反映的是客户对所有供应商的表现；没有报告给中性的50分。",
    ),
    # 能力：财务比率 18
    (
        "current_ratio",
        "流动比率",
        FactorGroup.CAPACITY,
        "current_ratio",
        H,
        6,
        steps(H, [1, Decimal("1.2"), Decimal("1.5"), 2], [10, 40, 60, 80, 100]),
        30,
        "流动资产 / 流动负债，衡量短期偿债能力。低于1说明短期债务大于可变现资产，"
        "我们的货款要与其他债权人竞争；2以上为稳健。",
    ),
    (
        "debt_ratio",
        "资产负债率",
        FactorGroup.CAPACITY,
        "debt_ratio",
        L,
        7,
        steps(L, [40, 50, 60, 70, 80], [100, 80, 60, 40, 20, 0]),
        30,
        "负债合计 / 资产总计。负债率越高，经营稍有波动就可能无力付款；"
        "超过80%的企业实际上靠债权人的钱经营。",
    ),
    (
        "net_margin",
        "净利率",
        FactorGroup.CAPACITY,
        "net_margin",
        H,
        5,
        steps(H, [0, 2, 5, 10], [0, 40, 60, 80, 100]),
        30,
        "净利润 / 营业收入。亏损企业付款靠的是借款或变卖资产，盈利才是长期付款能力的来源。"
        "财务比率缺少报表时给30分：不提供报表本身就是风险信号。",
    ),
    # 资本 12
    (
        "equity",
        "净资产",
        FactorGroup.CAPITAL,
        "equity",
        H,
        8,
        steps(
            H,
            [0, 50 * WAN, 100 * WAN, 200 * WAN, 500 * WAN, 1000 * WAN],
            [0, 20, 40, 55, 70, 85, 100],
        ),
        20,
        "所有者权益合计，是客户出现困难时最后能偿债的家底，也是A、B级额度的计算基础。"
        "净资产为负的客户得0分。",
    ),
    (
        "registered_capital",
        "注册资本",
        FactorGroup.CAPITAL,
        "registered_capital",
        H,
        4,
        steps(H, [50 * WAN, 100 * WAN, 500 * WAN, 1000 * WAN], [20, 40, 60, 80, 100]),
        20,
        "注册资本是股东承诺的责任上限。认缴制下不一定实缴，所以权重低于净资产。",
    ),
    # 担保/抵押 5
    (
        "security_total",
        "担保与增信",
        FactorGroup.COLLATERAL,
        "security_total",
        H,
        5,
        steps(H, [Decimal("0.01"), 20 * WAN, 50 * WAN, 100 * WAN], [0, 40, 60, 80, 100]),
        0,
        "有效的保证担保、抵押质押、保证金和信用保险（按赔付比例）的合计。"
        "有担保说明客户愿意承担责任，但担保不能代替付款能力，所以权重不高；"
        "C级客户的担保另外可增加可用额度。",
    ),
    # 条件：行业与信誉 15
    (
        "industry_reputation",
        "行业信誉",
        FactorGroup.CONDITIONS,
        "industry_reputation",
        CAT,
        6,
        choices(100, 60, 0),
        50,
        "财务根据同行、供应商、行业协会和公开平台的反映选择好/一般/差。"
        "同行口碑差的客户往往在拖欠其他供应商。",
    ),
    (
        "cooperation_attitude",
        "合作态度",
        FactorGroup.CONDITIONS,
        "cooperation_attitude",
        CAT,
        5,
        choices(100, 60, 10),
        50,
        "客户是否配合提供资料、对账和回款安排。不配合信用调查的客户，出了问题也难以协商。"
        "未选择时取客户档案“业务状况”中记录的合作态度。",
    ),
    (
        "management_quality",
        "经营管理者素质",
        FactorGroup.CONDITIONS,
        "management_quality",
        CAT,
        4,
        choices(100, 60, 10),
        50,
        "经营者的经验、诚信和管理水平，由销售在评估表中提出、财务审核选择。",
    ),
    # 经营年限 10
    (
        "years_in_business",
        "经营年限",
        FactorGroup.HISTORY,
        "years_in_business",
        H,
        6,
        steps(H, [1, 3, 5, 10], [0, 30, 60, 80, 100]),
        0,
        "自成立日期起的整年数。新设企业倒闭率最高；经营满5年的企业已经过至少一个经济周期。"
        "没有成立日期说明基本资料不全，得0分。",
    ),
    (
        "months_trading",
        "与本公司交易月数",
        FactorGroup.HISTORY,
        "months_trading",
        H,
        4,
        steps(H, [6, 12, 24, 36], [20, 40, 60, 80, 100]),
        20,
        "自首次交易日起的整月数。合作越久，我们对客户的了解越可靠；尚未交易的新客户给20分。",
    ),
    # 规模 5
    (
        "annual_sales",
        "年销售额",
        FactorGroup.SCALE,
        "annual_sales",
        H,
        5,
        steps(H, [100 * WAN, 500 * WAN, 1000 * WAN, 5000 * WAN], [20, 40, 60, 80, 100]),
        20,
        "规模大的企业抗风险能力强，但规模不等于信用，所以只占5分。",
    ),
]


def factor_objects(scorecard=None) -> list[ScorecardFactor]:
    """The default factors as (unsaved) model instances, also used by tests."""
    rows = []
    for order, (code, label, group, key, direction, weight, bands, missing, why) in enumerate(
        FACTORS, start=1
    ):
        rows.append(
            ScorecardFactor(
                scorecard=scorecard,
                code=code,
                label=label,
                group=group,
                input_key=key,
                direction=direction,
                weight=Decimal(weight),
                bands=_json_bands(bands),
                missing_points=Decimal(missing),
                reasoning=why,
                sort_order=order * 10,
            )
        )
    return rows


def _json_bands(bands: list[dict]) -> list[dict]:
    def plain(value):
        if isinstance(value, Decimal):
            return float(value) if value != value.to_integral() else int(value)
        return value

    return [{key: plain(value) for key, value in band.items()} for band in bands]


def install() -> None:
    if Scorecard.objects.exists():
        return
    # bulk_create: a new installation's starting point is not a change anyone made,
    # so it is kept out of the change log (the history signals do not fire).
    (scorecard,) = Scorecard.objects.bulk_create(
        [
            Scorecard(
                name="信用评分卡",
                version=1,
                status=VersionStatus.ACTIVE,
                effective_from=FROM,
                grade_bands=GRADE_BANDS,
                notes="系统默认评分卡，见 docs/credit-policy.md。",
            )
        ]
    )
    ScorecardFactor.objects.bulk_create(factor_objects(scorecard))
