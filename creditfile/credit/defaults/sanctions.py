"""The default sanction rules (R-27; seed 001 篇9 三.1), documented in docs/credit-policy.md.

A ladder by severity: one late payment over 30 days costs a grade, a repeat costs two,
anything over 90 days drops the customer to D, and a malicious default (恶意拖欠)
takes credit away at once: limit 0, cash on delivery 即时清结, and a blacklist proposal.

Payment facts come from credit.PaymentSummary, which counts lates over 30 and over
90 days; the rules use those thresholds so each of them can be proven from the facts.
"""

from creditfile.credit.choices import SanctionAction, SanctionTrigger
from creditfile.credit.models import SanctionRule

DEFAULT_RULES = [
    dict(
        name="恶意拖欠：额度降为0、即时清结并建议列入黑名单",
        trigger=SanctionTrigger.MALICIOUS_DEFAULT,
        action=SanctionAction.PROPOSE_BLACKLIST,
        target_grade="D",
        priority=10,
    ),
    dict(
        name="12个月内逾期超过90天：降为D级",
        trigger=SanctionTrigger.DAYS_LATE,
        days_late_over=90,
        occurrences=1,
        action=SanctionAction.SET_GRADE,
        target_grade="D",
        priority=20,
    ),
    dict(
        name="12个月内两次逾期超过30天：降两级",
        trigger=SanctionTrigger.DAYS_LATE,
        days_late_over=30,
        occurrences=2,
        action=SanctionAction.DOWNGRADE,
        steps=2,
        priority=30,
    ),
    dict(
        name="12个月内逾期超过30天一次：降一级",
        trigger=SanctionTrigger.DAYS_LATE,
        days_late_over=30,
        occurrences=1,
        action=SanctionAction.DOWNGRADE,
        steps=1,
        priority=40,
    ),
]


def install() -> None:
    if SanctionRule.objects.exists():
        return
    SanctionRule.objects.bulk_create(SanctionRule(**fields) for fields in DEFAULT_RULES)
