"""How complete a credit file is, and what is missing (R-11).

Each check is one thing a credit manager expects in a usable file, weighted by how
much a credit decision depends on it. The score is the weighted share present.
Which sections exist is asked in one query (`presence`), because the score is
recomputed after every change to a file.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

STATEMENT_RECENT_DAYS = 550  # about 18 months: last year's annual statement still counts


@dataclass(frozen=True)
class Check:
    label: str
    weight: int
    present: bool


@dataclass(frozen=True)
class Presence:
    """Which sections of a file have at least one record."""

    certification: bool = False
    key_person: bool = False
    contact: bool = False
    emergency_contact: bool = False
    characteristics: bool = False
    business_status: bool = False
    trading_status: bool = False
    bank: bool = False
    recent_statement: bool = False
    visit_or_observation: bool = False


def presence(customer, today: date | None = None) -> Presence:
    from creditfile.customers import models as m

    today = today or timezone.localdate()

    def has(model, **lookups):
        return Exists(model.objects.filter(customer=OuterRef("pk"), **lookups))

    # Annotations are prefixed: bare names would clash with the reverse relations.
    annotations = {
        "has_certification": has(m.Certification),
        "has_key_person": has(m.KeyPerson),
        "has_contact": has(m.Contact),
        "has_emergency_contact": has(m.Contact, is_emergency=True),
        "has_characteristics": has(m.Characteristics),
        "has_business_status": has(m.BusinessStatus),
        "has_trading_status": has(m.TradingStatus),
        "has_bank": has(m.BankAccount),
        "has_recent_statement": has(
            m.FinancialStatement, period_end__gte=today - timedelta(days=STATEMENT_RECENT_DAYS)
        ),
        "has_visit_or_observation": has(m.Visit) | has(m.Observation),
    }
    row = m.Customer.objects.filter(pk=customer.pk).values(**annotations).first()
    flags = {name.removeprefix("has_"): bool(value) for name, value in (row or {}).items()}
    return Presence(**flags) if flags else Presence()


def checks(customer, present: Presence) -> list[Check]:
    c, p = customer, present
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
        Check(_("证照"), 5, p.certification),
        Check(_("关键人物"), 8, p.key_person),
        Check(_("联系人"), 8, p.contact),
        Check(_("紧急联系人"), 4, p.emergency_contact),
        Check(_("客户特征"), 4, p.characteristics),
        Check(_("业务状况"), 4, p.business_status),
        Check(_("交易活动现状"), 4, p.trading_status),
        Check(_("往来银行"), 6, p.bank),
        Check(_("近18个月财务报表"), 10, p.recent_statement),
        Check(_("拜访或观察记录"), 4, p.visit_or_observation),
    ]


def completeness(customer, present: Presence | None = None) -> tuple[int, list[str]]:
    """(score 0–100, labels of what is missing). Pass `present` when already known."""
    items = checks(customer, present if present is not None else presence(customer))
    total = sum(i.weight for i in items)
    got = sum(i.weight for i in items if i.present)
    return round(100 * got / total), [str(i.label) for i in items if not i.present]
