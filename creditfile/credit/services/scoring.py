"""Scoring a customer with a scorecard (R-23): points per factor, total, grade, limit.

The arithmetic lives in `Engine`, built once from a scorecard (and a grade policy for
standards and limits) and then applied to plain input dicts without touching the
database: `evaluate` uses it for one customer, the rescore batch for all of them, so a
rescore gives exactly what a finance officer would get for the same facts.

Points × weight / 100 per factor; the total is the exact sum rounded to 2 places (the
per-factor weighted points shown are rounded for display only).

An evaluation keeps its inputs and, per factor, the band it fell in and its points
(`Evaluation.factor_scores`); labels, weights and the reason's wording come from the
scorecard version it used, which is frozen once in force (`stored_factors`). So it reads
the same after the scorecard changes, in the reader's language, and a rescore of 200,000
customers writes one row per customer instead of seventeen.
"""

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from creditfile.credit.choices import Direction, LimitBasis
from creditfile.credit.models import Evaluation
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.services.scoring_inputs import (
    INPUTS,
    JUDGEMENT_CHOICES,
    gather_inputs,
)

__all__ = [
    "Engine",
    "FactorScore",
    "ScoreResult",
    "evaluate",
    "evaluate_and_save",
    "gather_inputs",
    "score",
    "stored_factors",
    "stored_scores",
    "validate_scorecard",
]

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
LIMIT_STEP = Decimal(1000)
MAX_POINTS = Decimal(100)

# Machine-checked credit standards of GradeTerms.conditions: (input, test, label).
CONDITIONS = {
    "min_years_in_business": (
        "years_in_business",
        "min",
        gettext_noop("经营年限不少于 %(required)s"),
    ),
    "min_registered_capital": (
        "registered_capital",
        "min",
        gettext_noop("注册资本不少于 %(required)s"),
    ),
    "max_debt_ratio": ("debt_ratio", "max", gettext_noop("资产负债率不高于 %(required)s")),
    "requires_audited_statement": (
        "statement_audited",
        "true",
        gettext_noop("提供经审计的财务报表"),
    ),
    "max_average_days_late": (
        "average_days_late",
        "max",
        gettext_noop("加权平均逾期不超过 %(required)s"),
    ),
}


# --- showing values -------------------------------------------------------------------


def _plain(number: Decimal) -> str:
    """58.30 → 58.3, 60.00 → 60, without exponent notation."""
    text = f"{number:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _wan(amount: Decimal) -> str:
    """Amounts as a credit manager writes them: 1,250万 rather than 12500000.00."""
    if abs(amount) >= 10_000:
        return f"{_plain(Decimal(f'{amount.scaleb(-4):.2f}'))}万"
    return _plain(amount)


UNITS = {
    "money": "元",
    "percent": "%",
    "years": "年",
    "months": "个月",
    "days": "天",
    "count": "次",
    "people": "人",
    "score": "分",
}


def show_value(key: str, value) -> str:
    """An input as the evaluation screen shows it, e.g. 58.3% or 1,250万元."""
    if value is None:
        return gettext("缺少资料")
    kind = INPUTS.get(key, ("", "text"))[1]
    if kind == "choice":
        return str(JUDGEMENT_CHOICES.get(value, value))
    if kind == "flag":
        return gettext("是") if value else gettext("否")
    if kind in ("text", "date"):
        return str(value)
    number = Decimal(str(value))
    text = _wan(number) if kind == "money" else _plain(number)
    return text + UNITS.get(kind, "")


def _band_label(kind: str, low: Decimal | None, high: Decimal | None) -> str:
    def num(x):
        return _wan(x) if kind == "money" else _plain(x)

    unit = UNITS.get(kind, "")
    if low is not None and high is not None:
        return f"{num(low)}–{num(high)}{unit}"
    if low is not None:
        return f"≥{num(low)}{unit}"
    if high is not None:
        return f"<{num(high)}{unit}"
    return gettext("全部")


# --- the engine -----------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    low: Decimal | None
    high: Decimal | None
    value: str | None
    points: Decimal
    label: str


@dataclass(frozen=True)
class FactorScore:
    code: str
    label: str
    group: str
    input_key: str
    input_value: str
    band: str
    points: Decimal
    weight: Decimal
    weighted: Decimal
    reason: str
    missing: bool = False
    # [code, band index, points] as Evaluation.factor_scores keeps it, already JSON.
    stored_json: str = ""


def _decimal(value, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise WorkflowError(
            _("%(what)s不是有效的数字：%(value)s") % {"what": what, "value": value}, "config"
        ) from exc
    if not number.is_finite():
        raise WorkflowError(_("%(what)s不是有效的数字。") % {"what": what}, "config")
    return number


MEMO_SIZE = 20_000


class CompiledFactor:
    """A factor with its bands parsed and its texts translated once, so scoring many
    customers costs little (the rescore scores 16 factors × 200,000 customers)."""

    def __init__(self, factor):
        self.code = factor.code
        self.label = str(factor.label)
        self.group = factor.group
        self.input_key = factor.input_key
        self.direction = factor.direction
        self.weight = _decimal(factor.weight, factor.label)
        self.missing_points = _decimal(factor.missing_points, factor.label)
        self.kind = INPUTS.get(self.input_key, ("", "text"))[1]
        self.bands: list[Band] = []
        for raw in factor.bands or []:
            points = _decimal(raw.get("points"), factor.label)
            if self.direction == Direction.CATEGORY:
                value = str(raw.get("value"))
                label = raw.get("label") or show_value(self.input_key, value)
                self.bands.append(Band(None, None, value, points, label))
            else:
                low = None if raw.get("min") is None else _decimal(raw["min"], factor.label)
                high = None if raw.get("max") is None else _decimal(raw["max"], factor.label)
                label = raw.get("label") or _band_label(self.kind, low, high)
                self.bands.append(Band(low, high, None, points, label))
        self.choice_labels = {key: str(label) for key, label in JUDGEMENT_CHOICES.items()}
        self.flag_labels = (gettext("否"), gettext("是"))
        self.missing_text = gettext("缺少资料")
        self.outside_text = gettext("%(label)s %(value)s 不在任何分档内，按缺少资料计")
        if self.direction == Direction.CATEGORY:
            self.reason_text = gettext("%(label)s %(value)s，得 %(points)s 分")
        else:
            self.reason_text = gettext("%(label)s %(value)s，落在 %(band)s 档，得 %(points)s 分")
        self._memo: dict = {}
        self._band_of: dict = {}
        # What an evaluation stores of each outcome, by band index (None: no band).
        self._stored = {
            index: (self.weighted(points), json.dumps([self.code, index, _plain(points)]))
            for index, points in [(None, self.missing_points)]
            + [(i, band.points) for i, band in enumerate(self.bands)]
        }

    def weighted(self, points: Decimal) -> Decimal:
        """points × weight / 100, exact (the total is rounded once, at the end)."""
        return points * self.weight / HUNDRED

    def match(self, value) -> int | None:
        """The index of the band the value falls in, None when it falls in none."""
        if self.direction == Direction.CATEGORY:
            text = str(value)
            for index, band in enumerate(self.bands):
                if band.value == text:
                    return index
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        for index, band in enumerate(self.bands):
            if (band.low is None or number >= band.low) and (
                band.high is None or number < band.high
            ):
                return index
        return None

    def band_of(self, value) -> int | None:
        """The band index of an input value, memoised: the batch's only per-value work."""
        key = value if value is None or isinstance(value, (str, int)) else str(value)
        try:
            return self._band_of[key]
        except KeyError:
            index = None if value is None else self.match(value)
            if len(self._band_of) < MEMO_SIZE:
                self._band_of[key] = index
            return index

    def points(self, index: int | None) -> Decimal:
        return self.missing_points if index is None else self.bands[index].points

    def stored(self, index: int | None) -> tuple[Decimal, str]:
        """(exact weighted points, the [code, band, points] JSON an evaluation keeps)."""
        return self._stored[index]

    def score(self, value) -> tuple[FactorScore, Decimal]:
        """The factor's worded row and its exact weighted points."""
        key = value if value is None or isinstance(value, (str, int)) else str(value)
        memo = self._memo.get(key)
        if memo is None:
            index = self.band_of(value)
            points = self.points(index)
            memo = (self.row(value, index, points), self.weighted(points))
            if len(self._memo) < MEMO_SIZE:
                self._memo[key] = memo
        return memo

    def row(self, value, index: int | None, points: Decimal) -> FactorScore:
        """The row worded from the facts an evaluation keeps: value, band and points."""
        band = self.bands[index] if index is not None and 0 <= index < len(self.bands) else None
        if value is None:
            shown = reason = self.missing_text
        else:
            if self.kind == "choice":
                shown = self.choice_labels.get(value, str(value))
            elif self.kind == "flag":
                shown = self.flag_labels[bool(value)]
            else:
                shown = show_value(self.input_key, value)
            if band is None:
                reason = self.outside_text % {"label": self.label, "value": shown}
            else:
                reason = self.reason_text % {
                    "label": self.label,
                    "value": shown,
                    "band": band.label,
                    "points": _plain(points),
                }
        index = None if band is None else index
        points = points.quantize(CENT)
        return FactorScore(
            code=self.code,
            label=self.label,
            group=self.group,
            input_key=self.input_key,
            input_value=shown[:100],
            band="" if band is None else band.label,
            points=points,
            weight=self.weight,
            weighted=self.weighted(points).quantize(CENT, ROUND_HALF_UP),
            reason=reason[:300],
            missing=band is None,
            stored_json=json.dumps([self.code, index, _plain(points)]),
        )


def stored_scores(rows: Iterable[FactorScore]) -> list:
    """What Evaluation.factor_scores keeps of the rows: [code, band index, points] each."""
    return [json.loads(row.stored_json) for row in rows]


def stored_factors(evaluation) -> list[FactorScore]:
    """An evaluation's rows, worded again from its stored bands and points.

    The scorecard version it used is frozen once in force, and a draft that has been
    used cannot be edited (policy.ensure_editable), so its labels, weights and bands
    are the ones the evaluation was scored with. A factor the version no longer has
    (which only hand-made data can produce) is still listed with its points.
    """
    compiled = {f.code: CompiledFactor(f) for f in evaluation.scorecard.factors.all()}
    inputs = evaluation.inputs or {}
    rows = []
    for code, index, points in evaluation.factor_scores or []:
        points = Decimal(str(points)).quantize(CENT)
        factor = compiled.get(code)
        value = None if factor is None else inputs.get(factor.input_key)
        try:
            rows.append(factor.row(value, index, points))
        except (AttributeError, ArithmeticError, ValueError):
            # No such factor, or a stored value that cannot be shown: the points still are.
            label = code if factor is None else factor.label
            shown = "" if value is None else str(value)[:100]
            weight = Decimal(0) if factor is None else factor.weight
            weighted = (points * weight / HUNDRED).quantize(CENT, ROUND_HALF_UP)
            rows.append(FactorScore(code, label, "", "", shown, "", points, weight, weighted, ""))
    return rows


@dataclass
class Outcome:
    """What the engine concludes from one input dict."""

    factors: list[FactorScore]
    total_score: Decimal
    scored_grade: str
    grade: str
    recommended_limit: Decimal | None = None
    limit_explanation: str = ""
    standard_failures: list[dict] = field(default_factory=list)
    cash_on_delivery: bool = False
    # Evaluation.factor_scores as JSON text, for batches that insert rows themselves.
    factor_scores_json: str = "[]"


class Engine:
    """A scorecard (and optionally a grade policy) ready to score plain input dicts."""

    def __init__(self, factors: Iterable, grade_bands: list[dict], terms: Iterable = ()):
        self.factors = [CompiledFactor(f) for f in factors]
        self._stored_memos = [(f.input_key, {}, f) for f in self.factors]
        bands = sorted(grade_bands or [], key=lambda b: Decimal(str(b["min_score"])), reverse=True)
        self.grade_bands = [(Decimal(str(b["min_score"])), b["grade"]) for b in bands]
        self.terms = {t.grade: t for t in sorted(terms, key=lambda t: t.rank)}
        self.grades = list(self.terms)
        self._texts: dict = {}
        self._compiled_conditions: dict[str, list] = {}

    def t(self, message) -> str:
        """`message` translated once per engine (gettext costs microseconds per call)."""
        key = message if isinstance(message, str) else id(message)  # lazy: module constants
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = gettext(message) if isinstance(message, str) else str(message)
        return text

    @classmethod
    def for_versions(cls, scorecard, policy=None) -> "Engine":
        terms = list(policy.grades.all()) if policy is not None else []
        return cls(list(scorecard.factors.all()), scorecard.grade_bands, terms)

    def grade_for(self, total: Decimal) -> str:
        if not self.grade_bands:
            raise WorkflowError(_("评分卡没有设置分数→等级。"), "config")
        for min_score, grade in self.grade_bands:
            if total >= min_score:
                return grade
        return self.grade_bands[-1][1]

    def score(self, inputs: Mapping) -> tuple[list[FactorScore], Decimal, str]:
        rows = []
        total = Decimal(0)
        for factor in self.factors:
            row, exact = factor.score(inputs.get(factor.input_key))
            rows.append(row)
            total += exact
        total = total.quantize(CENT, ROUND_HALF_UP)
        return rows, total, self.grade_for(total)

    def stored_score(self, inputs: Mapping) -> tuple[str, Decimal, str]:
        """Evaluation.factor_scores as JSON, the total and the grade, without wording a row.

        The same arithmetic as `score` (the same bands, the same exact sum), which is
        what a batch that stores only bands and points needs: wording 16 reasons for
        200,000 customers was most of the rescore's scoring time. Input values are JSON
        scalars, so they key the memo as they are.
        """
        total = Decimal(0)
        pieces = []
        get = inputs.get
        for key, memo, factor in self._stored_memos:
            value = get(key)
            hit = memo.get(value)
            if hit is None:
                hit = factor.stored(factor.band_of(value))
                if len(memo) < MEMO_SIZE:
                    memo[value] = hit
            total += hit[0]
            pieces.append(hit[1])
        total = total.quantize(CENT, ROUND_HALF_UP)
        return "[" + ",".join(pieces) + "]", total, self.grade_for(total)

    # standards ----------------------------------------------------------------------

    def _conditions(self, grade: str) -> list[tuple]:
        """The grade's checkable conditions, parsed and worded once per engine."""
        compiled = self._compiled_conditions.get(grade)
        if compiled is None:
            compiled = []
            for name, required in (self.terms[grade].conditions or {}).items():
                if name not in CONDITIONS or required in (None, False, ""):
                    continue
                key, test, template = CONDITIONS[name]
                limit = None if test == "true" else Decimal(str(required))
                required_text = "" if limit is None else show_value(key, limit)
                text = self.t(template) % {"required": required_text}
                compiled.append((name, key, test, limit, str(required), text))
            self._compiled_conditions[grade] = compiled
        return compiled

    def standard_failures(self, grade: str, inputs: Mapping) -> list[dict]:
        """The grade's machine-checked conditions the inputs do not meet (missing = not met)."""
        failures = []
        for name, key, test, limit, required, condition in self._conditions(grade):
            value = inputs.get(key)
            if test == "true":
                met = value is True
            elif value is None:
                met = False
            else:
                number = Decimal(value) if isinstance(value, str) else Decimal(str(value))
                met = number >= limit if test == "min" else number <= limit
            if met:
                continue
            failures.append(
                {
                    "grade": grade,
                    "condition": name,
                    "required": required,
                    "actual": value,
                    "text": self.t("%(grade)s级标准：%(condition)s；实际：%(actual)s")
                    % {"grade": grade, "condition": condition, "actual": show_value(key, value)},
                }
            )
        return failures

    def apply_standards(self, grade: str, inputs: Mapping) -> tuple[str, list[dict]]:
        """The best grade at or below `grade` whose credit standard the customer meets."""
        if grade not in self.terms:
            raise WorkflowError(
                _("评分卡给出的等级 %(grade)s 不在当前等级政策中。") % {"grade": grade}, "config"
            )
        failures = []
        for candidate in self.grades[self.grades.index(grade) :]:
            missed = self.standard_failures(candidate, inputs)
            if not missed:
                return candidate, failures
            failures.extend(missed)
        return self.grades[-1], failures

    # limits ---------------------------------------------------------------------------

    def recommended_limit(self, grade: str, inputs: Mapping) -> tuple[Decimal, str]:
        """The grade's limit formula applied to the inputs, capped, in whole thousands."""
        terms = self.terms[grade]
        if terms.cash_on_delivery:
            return Decimal(0), self.t("%(grade)s级即时清结（现款现货），不授予赊销额度：0 元") % {
                "grade": grade
            }
        steps = []
        rate = Decimal(terms.limit_rate)
        basis = terms.limit_basis
        base_key = {
            LimitBasis.NET_WORTH: "equity",
            LimitBasis.EXPECTED_PURCHASES: "expected_annual_purchases",
        }.get(basis)
        base = inputs.get(base_key) if base_key else None
        if base_key and base is not None:
            base = Decimal(str(base))
            amount = max((base * rate / HUNDRED).quantize(CENT, ROUND_DOWN), Decimal(0))
            steps.append(
                self.t("%(grade)s级按%(what)s计算：%(base)s 元 × %(rate)s%% = %(amount)s 元")
                % {
                    "grade": grade,
                    "what": self.t(INPUTS[base_key][0]),
                    "base": f"{base:,.2f}",
                    "rate": _plain(rate),
                    "amount": f"{amount:,.2f}",
                }
            )
        else:
            amount = Decimal(terms.default_limit)
            if base_key:
                steps.append(
                    self.t("%(grade)s级应按%(what)s计算，但缺少该资料，取默认额度 %(amount)s 元")
                    % {
                        "grade": grade,
                        "what": self.t(INPUTS[base_key][0]),
                        "amount": f"{amount:,.2f}",
                    }
                )
            else:
                steps.append(
                    self.t("%(grade)s级固定额度 %(amount)s 元")
                    % {"grade": grade, "amount": f"{amount:,.2f}"}
                )
        if terms.max_limit is not None and amount > terms.max_limit:
            amount = Decimal(terms.max_limit)
            steps.append(self.t("不超过上限 %(cap)s 元") % {"cap": f"{amount:,.2f}"})
        rounded = (amount // LIMIT_STEP) * LIMIT_STEP
        steps.append(self.t("按千元向下取整：%(limit)s 元") % {"limit": f"{rounded:,.0f}"})
        return rounded.quantize(CENT), "；".join(steps)

    def evaluate(self, inputs: Mapping, *, worded: bool = True) -> Outcome:
        """Score, apply the credit standards and recommend a limit.

        `worded=False` (the batches) leaves `factors` empty and gives only
        `factor_scores_json`, which is all an evaluation stores.
        """
        if worded:
            rows, total, scored = self.score(inputs)
            stored = "[" + ",".join(row.stored_json for row in rows) + "]"
        else:
            rows = []
            stored, total, scored = self.stored_score(inputs)
        grade, failures = self.apply_standards(scored, inputs)
        limit, explanation = self.recommended_limit(grade, inputs)
        if grade != scored:
            explanation = (
                self.t("评分等级 %(scored)s，未达到信用标准，降为 %(grade)s。")
                % {"scored": scored, "grade": grade}
                + explanation
            )
        return Outcome(
            factors=rows,
            total_score=total,
            scored_grade=scored,
            grade=grade,
            recommended_limit=limit,
            limit_explanation=explanation,
            standard_failures=failures,
            cash_on_delivery=self.terms[grade].cash_on_delivery,
            factor_scores_json=stored,
        )


def score(scorecard, inputs: Mapping) -> dict:
    """Per-factor points, the total and the grade of the scorecard's bands (no policy)."""
    rows, total, grade = Engine.for_versions(scorecard).score(inputs)
    return {"factors": rows, "total_score": total, "grade": grade}


# --- validation -----------------------------------------------------------------------


def validate_scorecard(scorecard) -> None:
    """Refuse to activate a scorecard that cannot score consistently.

    Weights sum to 100; points are 0–100; numeric bands cover every value once, in
    order, and their points follow the factor's direction, so a better input can never
    lower the score; grade bands go down strictly.
    """
    factors = list(scorecard.factors.all())
    problems = []
    if not factors:
        problems.append(gettext("评分卡没有评分因素。"))
    total = sum((Decimal(f.weight) for f in factors), Decimal(0))
    if total != HUNDRED:
        problems.append(
            gettext("各因素权重之和应为100，现为 %(total)s。") % {"total": _plain(total)}
        )
    for f in factors:
        problems += _factor_problems(f)
    problems += _grade_band_problems(scorecard.grade_bands)
    if problems:
        raise WorkflowError("；".join(problems), "invalid")


def _factor_problems(f) -> list[str]:
    problems = []
    name = f.label

    def flag_problem(message, **extra):
        problems.append(f"{name}：" + gettext(message) % extra)

    if f.input_key not in INPUTS:
        flag_problem("未知的取值来源 %(key)s", key=f.input_key)
    if Decimal(f.weight) < 0:
        flag_problem("权重不能为负数")
    if not 0 <= Decimal(f.missing_points) <= MAX_POINTS:
        flag_problem("缺少资料时得分应在0–100之间")
    if not f.bands:
        flag_problem("没有分档")
        return problems
    try:
        compiled = CompiledFactor(f)
    except (WorkflowError, AttributeError, TypeError):
        flag_problem("分档格式不正确")
        return problems
    for band in compiled.bands:
        if not 0 <= band.points <= MAX_POINTS:
            flag_problem("得分应在0–100之间（%(band)s）", band=band.label)
    if f.direction == Direction.CATEGORY:
        values = [b.value for b in compiled.bands]
        if len(set(values)) != len(values):
            flag_problem("分类取值重复")
        return problems
    bands = sorted(compiled.bands, key=lambda b: (b.low is not None, b.low or 0))
    if bands[0].low is not None or bands[-1].high is not None:
        flag_problem("分档应覆盖全部取值（最低档无下限，最高档无上限）")
    for before, after in zip(bands, bands[1:], strict=False):
        if before.high is None or after.low is None or before.high != after.low:
            flag_problem("分档应首尾相接、互不重叠（%(a)s / %(b)s）", a=before.label, b=after.label)
    for band in bands:
        if band.low is not None and band.high is not None and band.low >= band.high:
            flag_problem("分档下限应小于上限（%(band)s）", band=band.label)
    points = [b.points for b in bands]
    if f.direction == Direction.HIGHER_BETTER and points != sorted(points):
        flag_problem("方向为越高越好，分档得分应随取值升高而不降低")
    if f.direction == Direction.LOWER_BETTER and points != sorted(points, reverse=True):
        flag_problem("方向为越低越好，分档得分应随取值升高而不升高")
    return problems


def _grade_band_problems(grade_bands) -> list[str]:
    if not grade_bands:
        return [gettext("评分卡没有设置分数→等级。")]
    try:
        scores = [Decimal(str(b["min_score"])) for b in grade_bands]
        grades = [str(b["grade"]) for b in grade_bands]
    except (KeyError, TypeError, InvalidOperation):
        return [gettext("分数→等级格式不正确。")]
    problems = []
    if any(b >= a for a, b in zip(scores, scores[1:], strict=False)):
        problems.append(gettext("分数→等级应按最低分从高到低排列。"))
    if len(set(grades)) != len(grades) or not all(grades):
        problems.append(gettext("分数→等级中的等级不能为空或重复。"))
    return problems


# --- one customer -----------------------------------------------------------------------


@dataclass
class ScoreResult:
    """An unsaved evaluation: everything `evaluate_and_save` writes."""

    customer: object
    as_of: datetime.date
    scorecard: object
    policy: object
    inputs: dict
    factors: list[FactorScore]
    total_score: Decimal
    scored_grade: str
    grade: str
    recommended_limit: Decimal
    limit_explanation: str
    standard_failures: list[dict]
    sales_form: dict = field(default_factory=dict)


def _amount_or_none(value):
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation as exc:
        raise WorkflowError(
            _("预计年采购额不是有效的金额。"), "invalid", "expected_annual_purchases"
        ) from exc
    if not amount.is_finite() or amount < 0:
        raise WorkflowError(
            _("预计年采购额不是有效的金额。"), "invalid", "expected_annual_purchases"
        )
    return amount.quantize(CENT)


def evaluate(
    customer,
    *,
    judgement: Mapping | None = None,
    sales_form: Mapping | None = None,
    as_of: datetime.date | None = None,
    scorecard=None,
    policy=None,
    expected_annual_purchases=None,
) -> ScoreResult:
    """Score one customer with the scorecard and policy in force on `as_of` (unsaved)."""
    from creditfile.credit.services.policy import policy_in_force, scorecard_in_force

    as_of = as_of or timezone.localdate()
    scorecard = scorecard or scorecard_in_force(as_of)
    policy = policy or policy_in_force(as_of)
    if expected_annual_purchases is None and sales_form:
        expected_annual_purchases = sales_form.get("expected_annual_purchases")
    inputs = gather_inputs(
        customer,
        as_of,
        judgement=judgement,
        sales_form=sales_form,
        expected_annual_purchases=_amount_or_none(expected_annual_purchases),
    )
    outcome = Engine.for_versions(scorecard, policy).evaluate(inputs)
    return ScoreResult(
        customer=customer,
        as_of=as_of,
        scorecard=scorecard,
        policy=policy,
        inputs=inputs,
        factors=outcome.factors,
        total_score=outcome.total_score,
        scored_grade=outcome.scored_grade,
        grade=outcome.grade,
        recommended_limit=outcome.recommended_limit,
        limit_explanation=outcome.limit_explanation,
        standard_failures=outcome.standard_failures,
        sales_form=dict(sales_form or {}),
    )


@transaction.atomic
def evaluate_and_save(
    customer,
    *,
    kind: str,
    application=None,
    sales_form: Mapping | None = None,
    judgement: Mapping | None = None,
    filled_by=None,
    scored_by=None,
    review_comment: str = "",
    as_of: datetime.date | None = None,
    expected_annual_purchases=None,
) -> Evaluation:
    """Score and keep the evaluation with its inputs, factors and versions (R-23)."""
    if expected_annual_purchases is None and application is not None:
        expected_annual_purchases = application.expected_annual_purchases
    result = evaluate(
        customer,
        judgement=judgement,
        sales_form=sales_form,
        as_of=as_of,
        expected_annual_purchases=expected_annual_purchases,
    )
    evaluation = Evaluation.objects.create(
        customer=customer,
        application=application,
        kind=kind,
        scorecard=result.scorecard,
        policy=result.policy,
        as_of=result.as_of,
        sales_form=result.sales_form,
        inputs=result.inputs,
        total_score=result.total_score,
        grade=result.grade,
        recommended_limit=result.recommended_limit,
        limit_explanation=result.limit_explanation,
        standard_failures=result.standard_failures,
        factor_scores=stored_scores(result.factors),
        filled_by=filled_by,
        scored_by=scored_by,
        review_comment=review_comment,
    )
    return evaluation
