"""Migrations that move data: what was on file before is on file after."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from creditfile.credit.models import Evaluation, GradePolicy, Scorecard
from creditfile.credit.services.scoring import stored_factors
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("credit", "0002_evaluation_factor_scores")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_factor_rows_move_into_the_evaluation_with_their_band():
    customer = make_customer()
    scorecard = Scorecard.objects.get(version=1)
    policy_id = GradePolicy.objects.get(version=1).pk
    try:
        old = _migrate(BEFORE)
        OldEvaluation = old.get_model("credit", "Evaluation")
        OldFactor = old.get_model("credit", "EvaluationFactor")
        evaluation = OldEvaluation.objects.create(
            customer_id=customer.pk,
            scorecard_id=scorecard.pk,
            policy_id=policy_id,
            as_of="2026-06-30",
            inputs={"debt_ratio": "58.30", "industry_reputation": "good", "current_ratio": None},
            total_score=Decimal("10.00"),
            grade="D",
            recommended_limit=Decimal(0),
        )
        for code, points in [
            ("debt_ratio", "60.00"),  # 50–60%: the third band
            ("industry_reputation", "100.00"),  # a category band: good
            ("current_ratio", "30.00"),  # missing: no band
            ("net_margin", "55.00"),  # points no band of the version gives: kept, no band
        ]:
            OldFactor.objects.create(
                evaluation_id=evaluation.pk,
                code=code,
                label=code,
                group="capacity",
                points=Decimal(points),
                weight=Decimal(5),
                weighted=Decimal(1),
                reason="旧的说明",
            )
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
        moved = Evaluation.objects.get(pk=evaluation.pk)

        back = _migrate(BEFORE)  # and back again: the rows are rebuilt from the scores
        rebuilt = back.get_model("credit", "EvaluationFactor").objects.order_by("id")
        assert [(f.code, f.points, f.band) for f in rebuilt] == [
            ("debt_ratio", Decimal("60.00"), ""),
            ("industry_reputation", Decimal("100.00"), ""),
            ("current_ratio", Decimal("30.00"), ""),
            ("net_margin", Decimal("55.00"), ""),
        ]
        assert rebuilt[0].label == "资产负债率" and rebuilt[0].weight == 7
        assert rebuilt[0].weighted == Decimal("4.20")
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert moved.factor_scores == [
        ["debt_ratio", 2, "60"],
        ["industry_reputation", 0, "100"],
        ["current_ratio", None, "30"],
        ["net_margin", None, "55"],
    ]
    rows = {row.code: row for row in stored_factors(moved)}
    assert rows["debt_ratio"].band == "50–60%"
    assert rows["current_ratio"].reason == "缺少资料"
    assert rows["net_margin"].points == Decimal(55)
