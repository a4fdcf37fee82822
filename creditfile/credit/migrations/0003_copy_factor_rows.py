"""Move each evaluation's factor rows into Evaluation.factor_scores: [code, band, points].

The band index is found again by applying the factor's bands (of the scorecard version
the evaluation used, frozen since) to the evaluation's stored input, as the evaluation
screen already did; where that gives other points than were stored, the stored points
stand and the band is left empty.
"""

from decimal import Decimal, InvalidOperation

from django.db import migrations

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
        for evaluation in evaluations:
            scores = []
            for code, points in rows.get(evaluation.id, []):
                factor = factors.get((evaluation.scorecard_id, code))
                index = None
                if factor is not None:
                    index = _band_index(factor, (evaluation.inputs or {}).get(factor.input_key))
                    if index is not None and Decimal(str(factor.bands[index].get("points"))) != points:
                        index = None
                scores.append([code, index, _plain(points)])
            evaluation.factor_scores = scores
        Evaluation.objects.bulk_update(evaluations, ["factor_scores"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0002_evaluation_factor_scores"),
    ]

    operations = [
        migrations.RunPython(copy_rows, migrations.RunPython.noop),
    ]
