"""The demo credit department: payment records, graded lines and work in every stage.

A new user who runs `creditfile up` should find a credit department at work, not empty
screens. Two parts, so a million customers stay affordable:

- `write_bulk_credit` is set-based: it reads the customers just written in id chunks,
  makes twelve-month payment summaries at the last month-ends, scores each customer with
  the scoring engine (`Engine` + `build_inputs`, the path the batch rescore uses) and
  writes the Evaluation (with its factor scores) and the granted CreditLine with raw
  multi-row inserts (`core.services.bulk.insert_rows`). Each customer draws from its own
  generator seeded with (seed, credit code), so the result depends neither on chunk size
  nor on the database ids.
- `write_workflow_examples` drives a few dozen applications through the real workflow
  services with the demo users (so every step has the right actor and passes every
  rule), plus securities, external ratings, a blacklisting with measures and one of our
  own breaches. A few thousand ORM calls at most, whatever the number of customers.

Then the daily jobs run as they would overnight: `create_due_reviews` and
`propose_sanctions`.
"""

import datetime
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from creditfile.customers.demo.generator import TZ, Choice, Dice

SALT = "creditfile-demo-credit"
CHUNK = 5000
MONTH_ENDS = 4  # payment summaries at the last four month-ends
# Share of customers of each lifecycle with a granted line (and its evaluation).
LINE_SHARE = {"active": 0.95, "new": 0.5, "dormant": 0.25}
# Payment behaviour: mostly good payers, some a little late, a few very late.
PROFILES = Choice([("good", 76), ("late", 19), ("very_late", 5)])
JUDGEMENT = {
    "good": Choice([("good", 60), ("fair", 35), ("poor", 5)]),
    "late": Choice([("good", 25), ("fair", 55), ("poor", 20)]),
    "very_late": Choice([("good", 10), ("fair", 45), ("poor", 45)]),
}
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10_000)

EVALUATION_COLUMNS = (
    "customer",
    "kind",
    "scorecard",
    "policy",
    "as_of",
    "sales_form",
    "inputs",
    "total_score",
    "grade",
    "recommended_limit",
    "limit_explanation",
    "standard_failures",
    "factor_scores",
    "filled_by",
    "scored_by",
    "review_comment",
    "created_at",
)
PAYMENT_COLUMNS = (
    "customer",
    "period_end",
    "sales_amount",
    "payments_amount",
    "invoices_settled",
    "invoices_paid_on_time",
    "average_days_late",
    "max_days_late",
    "times_late_over_30",
    "times_late_over_90",
    "overdue_amount",
    "malicious_default",
    "source",
    "created_at",
)
LINE_COLUMNS = (
    "customer",
    "company",
    "scope",
    "status",
    "grade",
    "limit",
    "term_days",
    "discount_percent",
    "discount_days",
    "cash_on_delivery",
    "valid_from",
    "valid_until",
    "policy",
    "granted_by",
    "granted_at",
    "end_reason",
)


@dataclass
class CreditReport:
    payment_summaries: int = 0
    evaluations: int = 0
    factors: int = 0
    lines: int = 0
    grades: dict = field(default_factory=dict)
    applications: dict = field(default_factory=dict)  # state → count
    reviews: dict = field(default_factory=dict)
    sanctions: dict = field(default_factory=dict)
    receivables: dict = field(default_factory=dict)  # invoices, payments, released, blocked
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)  # where the time went (seconds)


def month_end(day: datetime.date, back: int) -> datetime.date:
    """The last day of the month `back` months before the month that ended before `day`."""
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return first - datetime.timedelta(days=1)


def _moment(day: datetime.date, dice: Dice) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(dice.int(9, 17), dice.int(0, 59)), tzinfo=TZ
    )


def _years_later(day: datetime.date, years: int) -> datetime.date:
    return day.replace(year=day.year + years, day=min(day.day, 28))


def _money(amount) -> Decimal:
    return Decimal(amount).quantize(CENT)


# --- the set-based part ----------------------------------------------------------------------


@dataclass
class _Plan:
    """One customer's credit history, decided by its dice before anything is scored."""

    profile: str
    months: list  # month offsets (0 = latest month-end) with a payment summary
    evaluated_back: int  # month offset of the evaluation's as-of date
    base_sales: int
    event_back: int  # very late payers: the oldest month-end that shows the late payment


class BulkCredit:
    """Scores and writes the credit records of customers in id order, chunk by chunk."""

    def __init__(self, seed: int, today: datetime.date, users: dict[str, int]):
        from creditfile.core.models import Company
        from creditfile.credit.services.policy import policy_in_force, scorecard_in_force
        from creditfile.credit.services.scoring import Engine

        self.seed = seed
        self.today = today
        self.month_ends = [month_end(today, k) for k in range(16)]
        self.scorecard = scorecard_in_force(today)
        self.policy = policy_in_force(today)
        self.terms = {t.grade: t for t in self.policy.grades.all()}
        self.engine = Engine.for_versions(self.scorecard, self.policy)
        self.company = Company.default()
        self.finance = [users[u] for u in ("finance1", "finance2")]
        self.granters = [users[u] for u in ("credit1", "credit2", "credit_manager")]
        self.ops = connection.ops

    def dice(self, uscc: str) -> Dice:
        return Dice(f"{SALT}:{self.seed}:{uscc}")

    def plan(self, dice: Dice, customer: dict) -> _Plan | None:
        share = LINE_SHARE.get(customer["lifecycle"], 0)
        if not share or not dice.chance(share):
            return None
        profile = PROFILES(dice)
        first_trade = customer["first_trade_on"]
        # One customer in five was last evaluated over a year ago: its annual review is due.
        old = dice.chance(0.2)
        evaluated_back = dice.int(12, 14) if old else dice.pick((1, 1, 1, 2, 3))
        months = [
            k
            for k in (*range(MONTH_ENDS), evaluated_back)
            if first_trade and first_trade <= self.month_ends[k] - datetime.timedelta(days=60)
        ]
        if old and evaluated_back not in months:
            evaluated_back = dice.pick((1, 2))
        annual = customer["annual_sales"] or Decimal(2_000_000)
        base = max(60_000, int(annual) * dice.int(3, 14) // 100 // 1000 * 1000)
        event_back = 0 if dice.chance(0.7) else dice.int(1, 2)
        return _Plan(profile, sorted(set(months)), evaluated_back, base, event_back)

    def payment(self, dice: Dice, plan: _Plan, customer_id: int, back: int) -> dict:
        """The 12-month summary at month-end `back`; a very late payer shows its late
        payment only from the month it happened."""
        profile = plan.profile
        if profile == "very_late" and back > plan.event_back:
            profile = "late"
        sales = plan.base_sales * dice.int(92, 108) // 100
        settled = max(6, sales // dice.int(15_000, 60_000))
        if profile == "good":
            on_time_share = dice.int(92, 100)
            average, worst = Decimal(dice.int(0, 30)) / 10, dice.int(0, 12)
            over_30 = over_90 = 0
            overdue = 0 if dice.chance(0.8) else sales * dice.int(1, 3) // 100
        elif profile == "late":
            on_time_share = dice.int(65, 90)
            average, worst = Decimal(dice.int(40, 180)) / 10, dice.int(12, 29)
            over_30 = over_90 = 0
            overdue = sales * dice.int(2, 6) // 100
        else:
            on_time_share = dice.int(40, 70)
            worst = dice.int(35, 150)
            average = Decimal(dice.int(150, 450)) / 10
            over_30 = dice.int(1, 3)
            over_90 = 1 if worst > 90 else 0
            overdue = sales * dice.int(8, 25) // 100
        if worst == 0:
            average = Decimal(0)
        on_time = min(settled, settled * on_time_share // 100)
        return {
            "customer_id": customer_id,
            "period_end": self.month_ends[back],
            "sales_amount": _money(sales),
            "payments_amount": _money(sales * dice.int(90, 101) // 100),
            "invoices_settled": settled,
            "invoices_paid_on_time": on_time,
            "average_days_late": average,
            "max_days_late": worst,
            "times_late_over_30": over_30,
            "times_late_over_90": over_90,
            "overdue_amount": _money(overdue),
            "malicious_default": False,
        }

    def run(self, first_id: int, report: CreditReport) -> None:
        from creditfile.customers.models import Customer

        top = (
            Customer.objects.filter(id__gte=first_id)
            .order_by("-id")
            .values_list("id", flat=True)
            .first()
        )
        if top is None:
            return
        for low in range(first_id, top + 1, CHUNK):
            with transaction.atomic():
                self.chunk(low, min(low + CHUNK, top + 1), report)

    def chunk(self, low: int, high: int, report: CreditReport) -> None:
        from creditfile.core.services.bulk import insert_rows
        from creditfile.credit.models import CreditLine, Evaluation
        from creditfile.credit.models import PaymentSummary as Summary
        from creditfile.credit.services.scoring_inputs import (
            CUSTOMER_FIELDS,
            STATEMENT_FIELDS,
            build_inputs,
        )
        from creditfile.customers.models import BusinessStatus, Customer, FinancialStatement

        customers = list(
            Customer.objects.filter(id__gte=low, id__lt=high)
            .order_by("id")
            .values("id", "uscc", "lifecycle", "owner_id", *CUSTOMER_FIELDS)
        )
        statements = defaultdict(list)
        for row in (
            FinancialStatement.objects.filter(customer_id__gte=low, customer_id__lt=high)
            .order_by("customer_id", "period_end", "id")
            .values("customer_id", *STATEMENT_FIELDS)
        ):
            statements[row["customer_id"]].append(row)
        attitude = dict(
            BusinessStatus.objects.filter(customer_id__gte=low, customer_id__lt=high)
            .exclude(cooperation_attitude="")
            .values_list("customer_id", "cooperation_attitude")
        )
        ops = self.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        payments, evaluations, lines, scored = [], [], [], []
        for customer in customers:
            dice = self.dice(customer["uscc"])
            plan = self.plan(dice, customer)
            if plan is None:
                continue
            cid = customer["id"]
            summaries = {k: self.payment(dice, plan, cid, k) for k in plan.months}
            for s in summaries.values():
                payments.append(
                    (
                        cid,
                        ops.adapt_datefield_value(s["period_end"]),
                        s["sales_amount"],
                        s["payments_amount"],
                        s["invoices_settled"],
                        s["invoices_paid_on_time"],
                        s["average_days_late"],
                        s["max_days_late"],
                        s["times_late_over_30"],
                        s["times_late_over_90"],
                        s["overdue_amount"],
                        False,
                        "demo",
                        now,
                    )
                )
            as_of = self.month_ends[plan.evaluated_back]
            statement = None
            for row in statements.get(cid, ()):
                if row["period_end"] <= as_of:
                    statement = row
            judge = JUDGEMENT[plan.profile]
            judgement = {
                "industry_reputation": judge(dice),
                "cooperation_attitude": attitude.get(cid) or judge(dice),
                "management_quality": judge(dice),
            }
            expected = _money(plan.base_sales * dice.int(100, 130) // 100 // 1000 * 1000)
            inputs = build_inputs(
                as_of=as_of,
                customer=customer,
                statement=statement,
                payment=summaries.get(plan.evaluated_back),
                security_total=Decimal(0),
                rating=None,
                judgement=judgement,
                expected_annual_purchases=expected,
            )
            outcome = self.engine.evaluate(inputs, worded=False)
            sales_form = {"expected_annual_purchases": str(expected), **judgement}
            evaluated_at = _moment(as_of + datetime.timedelta(days=dice.int(1, 4)), dice)
            evaluations.append(
                (
                    cid,
                    "application",
                    self.scorecard.pk,
                    self.policy.pk,
                    ops.adapt_datefield_value(as_of),
                    json.dumps(sales_form),
                    json.dumps(inputs),
                    outcome.total_score,
                    outcome.grade,
                    outcome.recommended_limit,
                    outcome.limit_explanation,
                    json.dumps(outcome.standard_failures, ensure_ascii=False),
                    outcome.factor_scores_json,
                    customer["owner_id"],
                    dice.pick(self.finance),
                    "",
                    ops.adapt_datetimefield_value(evaluated_at),
                )
            )
            scored.append(outcome)
            lines.append(self.line(dice, customer, outcome, as_of))
        insert_rows(Summary, PAYMENT_COLUMNS, payments)
        insert_rows(Evaluation, EVALUATION_COLUMNS, evaluations)
        insert_rows(CreditLine, LINE_COLUMNS, [row for row, _grade in lines])
        # The customer's grade is its line's, as grant_line keeps it.
        by_grade = defaultdict(list)
        for row, grade in lines:
            by_grade[grade].append(row[0])
        for grade, customer_ids in by_grade.items():
            Customer.objects.filter(id__in=customer_ids).update(credit_grade=grade)
            report.grades[grade] = report.grades.get(grade, 0) + len(customer_ids)
        report.payment_summaries += len(payments)
        report.evaluations += len(evaluations)
        report.factors += len(scored) * len(self.engine.factors)
        report.lines += len(lines)

    def line(self, dice: Dice, customer: dict, outcome, as_of: datetime.date) -> tuple:
        """The line granted on the evaluation: the recommended limit, rounded as people do."""
        terms = self.terms[outcome.grade]
        limit = outcome.recommended_limit
        if limit >= 100_000:
            limit = limit // TEN_THOUSAND * TEN_THOUSAND
        valid_from = min(self.today, as_of + datetime.timedelta(days=dice.int(3, 20)))
        roll = dice.random()
        if roll < 0.03:
            valid_until = self.today + datetime.timedelta(days=dice.int(1, 30))  # expiring
        elif roll < 0.3:
            valid_until = None
        else:
            valid_until = _years_later(valid_from, 1 if (self.today - valid_from).days < 300 else 2)
        ops = self.ops
        return (
            (
                customer["id"],
                self.company.pk,
                f"company:{self.company.pk}",
                "active",
                outcome.grade,
                _money(limit),
                terms.credit_term_days,
                terms.discount_percent,
                terms.discount_days,
                terms.cash_on_delivery,
                ops.adapt_datefield_value(valid_from),
                ops.adapt_datefield_value(valid_until),
                self.policy.pk,
                dice.pick(self.granters),
                ops.adapt_datetimefield_value(_moment(valid_from, dice)),
                "",
            ),
            outcome.grade,
        )


def write_bulk_credit(seed: int, today: datetime.date, first_id: int, report: CreditReport):
    from creditfile.core.models import User
    from creditfile.customers.demo.org import PEOPLE

    users = dict(
        User.objects.filter(username__in=[p[0] for p in PEOPLE]).values_list("username", "pk")
    )
    BulkCredit(seed, today, users).run(first_id, report)


# --- hand-made examples through the workflow -------------------------------------------------

# (target state, requested limit in yuan, temporary?) in the order they are made: the
# first fourteen cover every state, so even a small demo shows the whole workflow.
SCENARIOS = [
    ("draft", 150_000, False),
    ("submitted", 300_000, False),
    ("refused", 200_000, False),
    ("investigating", 400_000, False),
    ("evaluating", 250_000, False),
    ("approving", 300_000, False),  # waiting for the credit manager
    ("approving_vp", 800_000, False),  # the credit manager signed; the VP is next
    ("approved", 200_000, False),
    ("partly_approved", 400_000, False),
    ("rejected", 350_000, False),
    ("info_requested", 300_000, False),
    ("granted", 300_000, False),
    ("withdrawn", 200_000, False),
    ("refusal_collect", 250_000, False),
    ("granted", 100_000, True),
    ("approving", 150_000, False),
    ("approving", 450_000, False),
    ("approving_vp", 1_200_000, False),
    ("approving_gm", 2_500_000, False),
    ("granted", 500_000, False),
    ("investigating", 300_000, False),
    ("approving", 200_000, True),
    ("evaluating", 600_000, False),
    ("granted", 200_000, False),
    ("approved", 150_000, True),
    ("approving", 350_000, False),
    ("refused", 100_000, False),
    ("rejected", 900_000, False),
    ("withdrawn", 500_000, False),
    ("info_requested", 700_000, False),
]

SURVEY_TEXT = {
    "people_met": "总经理、财务经理",
    "financial_condition": "账面资金较充裕，应收账款周转正常，无明显对外负债。",
    "willingness_to_pay": "管理者重信誉，历史上与供应商合作稳定。",
    "ability_to_pay": "经营稳健，现金流能覆盖采购需求。",
    "strategy": "深耕本地市场，逐步向周边地区扩展。",
    "resources": "自有仓库与配送车队，渠道网络完善。",
    "main_business": "本行业产品的批发与零售。",
    "purchasing": "主要向三家供应商采购，按月结算。",
    "sales_area_and_settlement": "本省及周边，下游以月结为主。",
    "premises": "自有办公楼一层，仓库约2000平方米，整洁有序。",
    "staff": "员工稳定，核心团队从业十年以上。",
    "identity_and_purpose": "确为营业执照登记主体，申请赊销用于扩大采购。",
    "impression": "总体印象良好，建议按评估结果授信。",
}
COLLECTION = [
    (
        "public_platform",
        "工商登记与年报信息",
        "国家企业信用信息公示系统查询：登记状态存续，年报已公示。",
    ),
    ("agency", "资信调查报告", "委托资信调查公司出具报告，未见重大不良记录。"),
    ("related_party", "上游供应商评价", "向其主要供应商了解：付款基本准时。"),
    ("internal_finance", "历史回款记录", "财务部提供近一年回款明细。"),
    ("customer", "近两年财务报表", "客户提供，尚未审计。"),
]
JUDGEMENT_FORM = {
    "industry_reputation": "good",
    "cooperation_attitude": "good",
    "management_quality": "fair",
}


class Examples:
    """Applications in every state, made by the demo users through the services."""

    def __init__(self, seed: int, today: datetime.date, org, first_id: int):
        self.seed = seed
        self.today = today
        self.org = org
        self.users = org.users
        self.first_id = first_id
        self.made: list = []

    def u(self, username):
        return self.users[username]

    def candidates(self):
        """Customers to make examples for: the first files (which have documents), those
        without a line first for new applications, those with one for the others."""
        from creditfile.credit.models import CreditLine
        from creditfile.customers.models import Customer

        rows = list(
            Customer.objects.filter(
                id__gte=self.first_id, lifecycle__in=("active", "new", "dormant")
            )
            .order_by("id")
            .values_list("id", flat=True)[:400]
        )
        with_line = set(
            CreditLine.objects.filter(
                customer_id__in=rows, status="active", cash_on_delivery=False
            ).values_list("customer_id", flat=True)
        )
        dice = Dice(f"{SALT}:{self.seed}:examples")
        fresh = [pk for pk in rows if pk not in with_line]
        lined = [pk for pk in rows if pk in with_line]
        return dice, fresh, lined

    def run(self) -> None:
        from creditfile.customers.models import Customer

        dice, fresh, lined = self.candidates()
        for target, amount, temporary in SCENARIOS:
            pool = lined if (temporary or not fresh or dice.chance(0.35)) else fresh
            if not pool:
                pool = fresh if pool is lined else lined
            if not pool:
                break
            customer = Customer.objects.select_related("owner").get(pk=pool.pop(0))
            if temporary and not customer.credit_lines.filter(status="active").exists():
                temporary = False
            self.make(customer, target, Decimal(amount), temporary, dice)

    def make(self, customer, target: str, amount: Decimal, temporary: bool, dice: Dice):
        from creditfile.credit.choices import ApplicationKind, Decision, RefusalDecision
        from creditfile.credit.services import approval, letters, workflow

        rep = customer.owner
        credit = self.u(dice.pick(("credit1", "credit2")))
        finance = self.u(dice.pick(("finance1", "finance2")))
        manager = self.u("credit_manager")
        has_line = customer.credit_lines.filter(status="active").exists()
        kind = (
            ApplicationKind.TEMPORARY
            if temporary
            else (ApplicationKind.INCREASE if has_line else ApplicationKind.NEW)
        )
        application = workflow.create_application(
            customer,
            rep,
            requested_limit=amount,
            requested_term_days=dice.pick((30, 45, 60)),
            purpose=dice.pick(
                (
                    "客户扩大经营，旺季备货需要赊销支持。",
                    "新开门店，采购量增加。",
                    "中标项目需分批供货，申请信用额度。",
                    "长期合作客户，申请提高额度以匹配采购规模。",
                )
            ),
            kind=kind,
            expected_annual_purchases=amount * dice.int(3, 6),
            # The services check dates against the real clock; --today may differ from it.
            temporary_until=max(self.today, timezone.localdate())
            + datetime.timedelta(days=dice.int(45, 90))
            if temporary
            else None,
        )
        self.made.append(application)
        if target == "draft":
            return
        workflow.submit(application, rep)
        if target == "withdrawn":
            workflow.withdraw(application, rep, "客户暂缓采购计划，撤回申请。")
            return
        if target in ("refused", "refusal_collect"):
            refusal = workflow.record_refusal(
                customer,
                rep,
                application=application,
                refused_by_person="王总",
                refused_by_title="总经理",
                reason="客户认为填写信用申请表及提供财务报表涉及商业秘密，不愿提供。",
                how_policy_explained="已向客户说明公司信用政策与资料保密承诺。",
                sales_manager_view="客户实力尚可，建议由信用部门另行采集资料。",
            )
            if target == "refusal_collect":
                workflow.decide_refusal(
                    refusal,
                    manager,
                    RefusalDecision.COLLECT_FULLY,
                    reason="客户为区域重点经销商，通过公开渠道与实地走访全面采集信息。",
                    follow_up="信用专员两周内完成资料采集。",
                    follow_up_due=self.today + datetime.timedelta(days=14),
                )
                self.investigate(application, customer, rep, credit, dice, finish=False)
            return
        if target == "submitted":
            return
        workflow.start_investigation(application, credit, "开始信用调查。")
        finish = target != "investigating"
        self.investigate(application, customer, rep, credit, dice, finish=finish)
        if not finish:
            return
        workflow.complete_investigation(application, credit, "调查完成，资料齐全。")
        form = {
            "main_business": SURVEY_TEXT["main_business"],
            "expected_annual_purchases": str(application.expected_annual_purchases),
            "payment_terms_requested": f"月结{application.requested_term_days}天",
            **JUDGEMENT_FORM,
            "guarantees_offered": "",
            "sales_comment": "客户经营稳定，建议授信。",
        }
        workflow.save_evaluation_form(application, rep, form)
        if target == "evaluating":
            return
        workflow.score(application, finance, review_comment="资料核对无误，按评分卡评分。")
        workflow.submit_for_approval(application, finance, "提交审批。")
        application.refresh_from_db()
        if target == "approving":
            return
        if target == "rejected":
            approval.decide(
                application, manager, Decision.REJECT, reason="近期回款不稳定，暂不授信。"
            )
            letters.generate_letter(application, credit)
            return
        if target == "info_requested":
            workflow.request_more_info(application, manager, "请补充最近一期经审计的财务报表。")
            return
        if target == "partly_approved":
            lower = (amount / 2).quantize(Decimal(1))
            self.approve_chain(application, Decision.APPROVE_LOWER, lower)
        elif target == "approving_vp":
            approval.decide(application, manager, Decision.APPROVE, reason="同意。")
            return
        elif target == "approving_gm":
            approval.decide(application, manager, Decision.APPROVE, reason="同意。")
            rule = approval.pending_rule(application)
            if rule is not None and rule.role == "vp":
                approval.decide(application, self.u("vp"), Decision.APPROVE, reason="同意上报。")
            return
        else:
            self.approve_chain(application, Decision.APPROVE, None)
        application.refresh_from_db()
        if target in ("approved", "partly_approved"):
            return
        valid_until = None if temporary else _years_later(self.today, 1)
        workflow.grant(application, credit, valid_from=self.today, valid_until=valid_until)
        letters.generate_letter(application, credit)

    def approve_chain(self, application, decision, lower: Decimal | None) -> None:
        """Every level signs in turn; the last one lowers the limit for a partial approval."""
        from creditfile.credit.choices import ApplicationState, Decision
        from creditfile.credit.services import approval

        for _level in range(5):
            application.refresh_from_db()
            if application.state != ApplicationState.APPROVING:
                return
            rule = approval.pending_rule(application)
            if rule is None:
                return
            user = self.org.by_role(rule.role)[0]
            if decision == Decision.APPROVE_LOWER:
                approval.decide(
                    application,
                    user,
                    Decision.APPROVE_LOWER,
                    reason="参考评估结果，先按较低额度授信，合作半年后再评。",
                    limit=lower,
                )
                decision = Decision.APPROVE
            else:
                approval.decide(application, user, Decision.APPROVE, reason="同意。")

    def investigate(self, application, customer, rep, credit, dice, *, finish: bool) -> None:
        from creditfile.credit.models import CollectionItem
        from creditfile.credit.services import workflow

        workflow.save_site_survey(
            application,
            rep,
            visited_on=self.today - datetime.timedelta(days=dice.int(2, 10)),
            import_export_rights=dice.chance(0.2),
            **SURVEY_TEXT,
        )
        for channel, topic, content in dice.sample(COLLECTION, 3 if finish else 2):
            obtained = finish or dice.chance(0.5)
            CollectionItem.objects.create(
                application=application,
                channel=channel,
                topic=topic,
                content=content if obtained else "",
                obtained=obtained,
                source="credit",
                source_date=self.today - datetime.timedelta(days=dice.int(1, 7)),
                entered_by=credit,
            )
            workflow.record_step_note(
                application,
                credit,
                "collection",
                f"采集：{topic}（{'已取得' if obtained else '未取得'}）",
            )
        if finish:
            workflow.save_pre_contract_review(
                application,
                credit,
                legal_standing_ok=True,
                legal_standing_note="营业执照有效，经营范围相符。",
                agent_authority_ok=True,
                agent_authority_note="授权委托书与身份证件已核验。",
                capacity_ok=True,
                capacity_note="经营规模与申请额度相称。",
                documents_authentic=True,
                documents_note="证明材料已与原件核对。",
            )

    def backdate(self) -> None:
        """The examples happened over the last weeks, not all at this second: steps before
        the scoring keep their order but move back by days."""
        from creditfile.credit.models import ApplicationStep, CreditApplication

        dice = Dice(f"{SALT}:{self.seed}:dates")
        now = timezone.now()
        for application in self.made:
            steps = list(ApplicationStep.objects.filter(application=application).order_by("id"))
            scored = next((i for i, s in enumerate(steps) if s.action == "score"), len(steps))
            early = steps[:scored]
            if not early:
                continue
            span = datetime.timedelta(days=dice.int(3, 25), minutes=dice.int(0, 600))
            start = now - span
            gap = span / (len(early) + 1)
            for i, step in enumerate(early):
                ApplicationStep.objects.filter(pk=step.pk).update(at=start + gap * i)
            CreditApplication.objects.filter(pk=application.pk).update(created_at=start)


def write_extras(seed: int, today: datetime.date, org, first_id: int, used=()) -> None:
    """Securities, external ratings, malicious defaults, a blacklisting, our own breach."""
    from creditfile.credit.choices import BreachKind, MeasureKind, SecurityKind
    from creditfile.credit.models import CreditLine, PaymentSummary
    from creditfile.credit.services import ratings, sanctions, securities

    users = org.users
    credit, manager = users["credit1"], users["credit_manager"]
    dice = Dice(f"{SALT}:{seed}:extras")
    lines = list(
        CreditLine.objects.filter(
            customer_id__gte=first_id,
            status="active",
            cash_on_delivery=False,
            application__isnull=True,
            customer__lifecycle="active",
        )
        .exclude(customer_id__in=list(used))
        .select_related("customer")
        .order_by("customer_id")[:400]
    )
    if not lines:
        return
    picks = dice.sample(lines, min(len(lines), 9))
    security_kinds = [
        (SecurityKind.DEPOSIT, "客户（现金保证金）", "", Decimal(100), None),
        (SecurityKind.GUARANTEE, "担保有限公司", "DB", Decimal(100), 2),
        (SecurityKind.INSURANCE, "中国出口信用保险公司", "SINO", Decimal(90), 1),
    ]
    for line, (kind, provider, prefix, coverage, years) in zip(
        picks[:3], security_kinds, strict=False
    ):
        customer = line.customer
        if kind == SecurityKind.GUARANTEE:
            provider = f"{customer.name[:2]}{provider}"
        securities.add_security(
            customer,
            credit,
            securities.SecurityInput(
                kind=kind,
                provider=provider,
                amount=_money(max(50_000, int(line.limit) // 5 // 10_000 * 10_000)),
                valid_from=today - datetime.timedelta(days=dice.int(10, 200)),
                reference=f"{prefix}{today.year}{dice.digits(6)}" if prefix else "",
                coverage_percent=coverage,
                valid_until=_years_later(today, years) if years else None,
                notes="演示数据",
                line=line,
            ),
        )
    for line, (agency, rating, score) in zip(
        picks[3:5],
        (("中诚信征信", "AA", Decimal("84")), ("大公国际资信", "A", Decimal("72"))),
        strict=False,
    ):
        ratings.add_rating(
            line.customer,
            credit,
            ratings.RatingInput(
                agency=agency,
                rated_on=today - datetime.timedelta(days=dice.int(20, 300)),
                rating=rating,
                score=score,
                summary="经营稳定，偿债能力较强，未发现重大不良信用记录。",
            ),
        )
    # Two malicious defaults in the latest month: one already blacklisted, one for the
    # sanction rules to propose.
    latest = month_end(today, 0)
    defaulters = [line.customer for line in picks[5:7]]
    for customer in defaulters:
        PaymentSummary.objects.update_or_create(
            customer=customer,
            period_end=latest,
            defaults={
                "sales_amount": Decimal("1200000.00"),
                "payments_amount": Decimal("640000.00"),
                "invoices_settled": 30,
                "invoices_paid_on_time": 9,
                "average_days_late": Decimal("74.0"),
                "max_days_late": 186,
                "times_late_over_30": 4,
                "times_late_over_90": 2,
                "overdue_amount": Decimal("560000.00"),
                "malicious_default": True,
                "source": "demo",
            },
        )
    if defaulters:
        listed = defaulters[0]
        entry = sanctions.propose_blacklist(
            listed,
            credit,
            "恶意拖欠货款逾期超过180天，多次催收拒不付款并转移资产。",
            evidence="催收函三份及客户回函；律师函。",
        )
        sanctions.approve_blacklist(entry, manager, "证据充分，同意列入黑名单。")
        for kind, reason in (
            (MeasureKind.STOP_SUPPLY, "列入黑名单，停止供货。"),
            (MeasureKind.LEGAL_ACTION, "已委托律师事务所提起诉讼，追讨欠款。"),
        ):
            sanctions.impose_measure(listed, manager, kind, reason)
    breach_customer = picks[7].customer if len(picks) > 7 else None
    occurred = min(today, timezone.localdate()) - datetime.timedelta(days=dice.int(20, 60))
    sanctions.record_breach(
        manager,
        kind=BreachKind.QUALITY,
        customer=breach_customer,
        occurred_on=occurred,
        description="一批货物抽检合格率未达到合同约定的98%，客户提出索赔。",
        amount=Decimal("86000.00"),
        responsible_department=org.departments.get("sales_east"),
        counterparty_notified_on=occurred + datetime.timedelta(days=dice.int(1, 10)),
        compensation=Decimal("12000.00"),
        corrective_action="整批退换，加强出厂检验。",
        disciplinary_action="对质检责任人通报批评。",
    )


def write_credit(seed: int, today: datetime.date, org, first_id: int) -> CreditReport:
    """Everything above for the customers with ids from `first_id`, then the daily jobs."""
    from creditfile.customers.demo.writer import fast_sqlite_writes

    with fast_sqlite_writes():
        return _write_credit(seed, today, org, first_id)


def _write_credit(seed: int, today: datetime.date, org, first_id: int) -> CreditReport:
    from creditfile.credit.models import CreditApplication
    from creditfile.credit.services.reviews import create_due_reviews
    from creditfile.credit.services.sanctions import propose_sanctions
    from creditfile.receivables.demo import write_receivables_examples

    began = clock = time.monotonic()
    report = CreditReport()

    def lap(name):
        nonlocal clock
        report.phases[name] = round(time.monotonic() - clock, 2)
        clock = time.monotonic()

    write_bulk_credit(seed, today, first_id, report)
    lap("bulk")
    if not CreditApplication.objects.exists():  # --append adds no second set of examples
        # One transaction: the services would otherwise commit every step on its own.
        with transaction.atomic():
            examples = Examples(seed, today, org, first_id)
            examples.run()
            examples.backdate()
            write_extras(seed, today, org, first_id, {a.customer_id for a in examples.made})
            report.receivables = write_receivables_examples(seed, today, first_id)
    report.applications = dict(
        CreditApplication.objects.values_list("state").annotate(n=Count("id")).order_by()
    )
    lap("examples")
    report.reviews = create_due_reviews(today)
    lap("reviews")
    report.sanctions = propose_sanctions(today)
    lap("sanctions")
    report.seconds = time.monotonic() - began
    return report
