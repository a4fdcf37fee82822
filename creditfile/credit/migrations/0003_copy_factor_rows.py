"""Move each evaluation's factor rows into Evaluation.factor_scores: [code, band, points].

The band index is found again by applying the factor's bands (of the scorecard version
the evaluation used, frozen since) to the evaluation's stored input, as the evaluation
screen already did; where that gives other points than were stored, the stored points
stand and the band is left empty. One transaction per batch (the copy can be run again),
so a large table is not rewritten in one transaction. Going back rebuilds the rows with
label, category, weight and band from the scorecard version; the wording of the reasons
is not kept (it is produced from the scores when shown).
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import migrations, transaction

BATCH = 1000


def _band_index(factor, value):
    if value is None:
        return None
    for index, band in enumerate(factor.bands or []):
        if factor.direction == "category":
            if str(band.get("value")) == str(value):
                return index
            continue
        try:
            number = Decimal(str(value))
            low = None if band.get("min") is None else Decimal(str(band["min"]))
            high = None if band.get("max") is None else Decimal(str(band["max"]))
        except InvalidOperation:
            return None
        if (low is None or number >= low) and (high is None or number < high):
            return index
    return None


def _plain(number: Decimal) -> str:
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def copy_rows(apps, schema_editor):
    Evaluation = apps.get_model("credit", "Evaluation")
    EvaluationFactor = apps.get_model("credit", "EvaluationFactor")
    ScorecardFactor = apps.get_model("credit", "ScorecardFactor")
    factors = {(f.scorecard_id, f.code): f for f in ScorecardFactor.objects.all()}
    last_id = 0
    while True:
        evaluations = list(
            Evaluation.objects.filter(id__gt=last_id)
            .order_by("id")
            .only("id", "scorecard_id", "inputs")[:BATCH]
        )
        if not evaluations:
            return
        last_id = evaluations[-1].id
        rows = {}
        for row in (
            EvaluationFactor.objects.filter(evaluation_id__in=[e.id for e in evaluations])
            .order_by("evaluation_id", "id")
            .values_list("evaluation_id", "code", "points")
        ):
            rows.setdefault(row[0], []).append(row[1:])
        with transaction.atomic():
            for evaluation in evaluations:
                scores = [
                    [code, _matching_band(factors, evaluation, code, points), _plain(points)]
                    for code, points in rows.get(evaluation.id, [])
                ]
                Evaluation.objects.filter(pk=evaluation.pk).update(factor_scores=scores)


def _matching_band(factors, evaluation, code, points):
    """The band the stored input falls in, if it gives the stored points."""
    factor = factors.get((evaluation.scorecard_id, code))
    if factor is None:
        return None
    index = _band_index(factor, (evaluation.inputs or {}).get(factor.input_key))
    if index is None or Decimal(str(factor.bands[index].get("points"))) != points:
        return None
    return index


def rebuild_rows(apps, schema_editor):
    Evaluation = apps.get_model("credit", "Evaluation")
    EvaluationFactor = apps.get_model("credit", "EvaluationFactor")
    ScorecardFactor = apps.get_model("credit", "ScorecardFactor")
    factors = {(f.scorecard_id, f.code): f for f in ScorecardFactor.objects.all()}
    EvaluationFactor.objects.all().delete()
    for evaluation in Evaluation.objects.order_by("id").only("id", "scorecard_id", "factor_scores"):
        rows = []
        for code, index, points in evaluation.factor_scores or []:
            factor = factors.get((evaluation.scorecard_id, code))
            points = Decimal(str(points))
            weight = factor.weight if factor else Decimal(0)
            bands = factor.bands if factor else []
            band = bands[index].get("label", "") if index is not None and index < len(bands) else ""
            rows.append(
                EvaluationFactor(
                    evaluation_id=evaluation.id,
                    code=code,
                    label=factor.label if factor else code,
                    group=factor.group if factor else "",
                    band=band or "",
                    points=points,
                    weight=weight,
                    weighted=(points * weight / 100).quantize(Decimal("0.01"), ROUND_HALF_UP),
                )
            )
        EvaluationFactor.objects.bulk_create(rows)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("credit", "0002_evaluation_factor_scores"),
    ]

    operations = [
        migrations.RunPython(copy_rows, rebuild_rows),
    ]
