"""The default grade policy (R-24; seed 001 篇9 二.1): four grades A–D.

A and B lines grow with the customer's net worth, capped; C is a small fixed line
that needs security to grow; D trades cash on delivery 即时清结 only.
"""

import datetime
from decimal import Decimal

from creditfile.credit.choices import LimitBasis, VersionStatus
from creditfile.credit.models import GradePolicy, GradeTerms

FROM = datetime.date(2000, 1, 1)

GRADES = [
    dict(
        grade="A",
        label="优良",
        rank=1,
        limit_basis=LimitBasis.NET_WORTH,
        limit_rate=Decimal("30"),
        default_limit=Decimal("1000000"),
        max_limit=Decimal("5000000"),
        credit_term_days=60,
        discount_percent=Decimal("2"),
        discount_days=10,
        credit_standard="成立满3年；资产负债率不高于60%；提供经审计的财务报表；近12个月无逾期超过30天。",
        conditions={
            "min_years_in_business": 3,
            "max_debt_ratio": 60,
            "requires_audited_statement": True,
        },
        handling="正常赊销；每年年审一次；订单在额度内自动放行。",
    ),
    dict(
        grade="B",
        label="良好",
        rank=2,
        limit_basis=LimitBasis.NET_WORTH,
        limit_rate=Decimal("20"),
        default_limit=Decimal("500000"),
        max_limit=Decimal("2000000"),
        credit_term_days=45,
        discount_percent=Decimal("1"),
        discount_days=10,
        credit_standard="成立满2年；资产负债率不高于70%；近12个月无逾期超过60天。",
        conditions={"min_years_in_business": 2, "max_debt_ratio": 70},
        handling="正常赊销；季度监控复核；超额订单由信用经理审批。",
    ),
    dict(
        grade="C",
        label="一般",
        rank=3,
        limit_basis=LimitBasis.FIXED,
        limit_rate=Decimal("0"),
        default_limit=Decimal("200000"),
        max_limit=Decimal("500000"),
        credit_term_days=30,
        discount_percent=Decimal("0"),
        discount_days=0,
        credit_standard="成立满1年；营业执照有效；提供近期财务报表。",
        conditions={"min_years_in_business": 1},
        handling="限额赊销；额度以外需担保或保证金；每笔超额订单逐笔审批；月度关注回款。",
        security_counts_as_headroom=True,
    ),
    dict(
        grade="D",
        label="较差",
        rank=4,
        limit_basis=LimitBasis.FIXED,
        limit_rate=Decimal("0"),
        default_limit=Decimal("0"),
        max_limit=Decimal("0"),
        credit_term_days=0,
        discount_percent=Decimal("0"),
        discount_days=0,
        credit_standard="不满足C级标准，或有恶意拖欠、严重逾期记录。",
        conditions={},
        handling="不予赊销，即时清结（现款现货）；必要时列入黑名单。",
        cash_on_delivery=True,
    ),
]


def install() -> None:
    if GradePolicy.objects.exists():
        return
    # bulk_create: a new installation's starting point is not a change anyone made,
    # so it is kept out of the change log (the history signals do not fire).
    (policy,) = GradePolicy.objects.bulk_create(
        [
            GradePolicy(
                name="信用等级政策",
                version=1,
                status=VersionStatus.ACTIVE,
                effective_from=FROM,
                notes="系统默认政策，见 docs/credit-policy.md。",
            )
        ]
    )
    GradeTerms.objects.bulk_create(GradeTerms(policy=policy, **terms) for terms in GRADES)
