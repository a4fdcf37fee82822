"""How complete a credit file is, and what is missing (R-11).

Each check is one thing a credit manager expects in a usable file, weighted by how
much a credit decision depends on it. The score is the weighted share present.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Check:
    label: str
    weight: int
    present: bool


def checks(customer) -> list[Check]:
    c = customer
    today = timezone.localdate()
    recent_statement = c.financialstatement_set.filter(
        period_end__gte=today - timedelta(days=550)
    ).exists()
    return [
        Check(_("统一社会信用代码"), 10, bool(c.uscc) or c.is_international),
        Check(_("注册地址"), 5, bool(c.registered_address)),
        Check(_("实际办公地址"), 5, bool(c.office_address)),
        Check(_("法定代表人"), 5, bool(c.legal_representative)),
        Check(_("注册资本"), 3, c.registered_capital is not None),
        Check(_("成立日期"), 3, c.established_on is not None),
        Check(_("行业"), 3, c.industry_id is not None),
        Check(_("地区"), 3, c.region_id is not None),
        Check(_("企业类型"), 3, c.ownership_id is not None),
        Check(_("负责销售代表"), 5, c.owner_id is not None),
        Check(_("证照"), 5, c.certification_set.exists()),
        Check(_("关键人物"), 8, c.keyperson_set.exists()),
        Check(_("联系人"), 8, c.contact_set.exists()),
        Check(_("紧急联系人"), 4, c.contact_set.filter(is_emergency=True).exists()),
        Check(_("客户特征"), 4, hasattr(c, "characteristics")),
        Check(_("业务状况"), 4, hasattr(c, "business_status")),
        Check(_("交易活动现状"), 4, hasattr(c, "trading_status")),
        Check(_("往来银行"), 6, c.bankaccount_set.exists()),
        Check(_("近18个月财务报表"), 10, recent_statement),
        Check(_("拜访或观察记录"), 4, c.visit_set.exists() or c.observation_set.exists()),
    ]


def completeness(customer) -> tuple[int, list[str]]:
    """(score 0–100, labels of what is missing)."""
    items = checks(customer)
    total = sum(i.weight for i in items)
    present = sum(i.weight for i in items if i.present)
    return round(100 * present / total), [str(i.label) for i in items if not i.present]
