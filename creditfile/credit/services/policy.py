"""Which grade policy and scorecard are in force, and how grades rank (R-18, R-24).

Several versions may be active, each from its own effective date: the one in force
on a day is the active version with the latest effective date on or before it. A
version in force is never edited; `new_draft_from` copies it to draft the next one.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.credit.choices import VersionStatus
from creditfile.credit.models import GradePolicy, GradeTerms, Scorecard
from creditfile.credit.services.errors import WorkflowError


def _in_force(model, on_date: datetime.date | None):
    on_date = on_date or timezone.localdate()
    version = (
        model.objects.filter(status=VersionStatus.ACTIVE, effective_from__lte=on_date)
        .order_by("-effective_from", "-version")
        .first()
    )
    if version is None:
        raise WorkflowError(
            _("%(what)s尚未设置或尚未生效（%(date)s）。")
            % {"what": model._meta.verbose_name, "date": on_date},
            "config",
        )
    return version


def policy_in_force(on_date: datetime.date | None = None) -> GradePolicy:
    return _in_force(GradePolicy, on_date)


def scorecard_in_force(on_date: datetime.date | None = None) -> Scorecard:
    return _in_force(Scorecard, on_date)


def grades_best_first(policy: GradePolicy) -> list[str]:
    return [terms.grade for terms in policy.grades.order_by("rank")]


def terms_for(policy: GradePolicy | int, grade: str) -> GradeTerms:
    """The grade's terms in `policy` (the policy or its id)."""
    policy_id = getattr(policy, "pk", policy)
    terms = GradeTerms.objects.filter(policy_id=policy_id, grade=grade).first()
    if terms is None:
        raise WorkflowError(
            _("政策 %(policy)s 中没有等级 %(grade)s。")
            % {
                "policy": GradePolicy.objects.filter(pk=policy_id).first() or policy,
                "grade": grade,
            },
            "config",
        )
    return terms


def lower_grade(grades: list[str], grade: str, steps: int = 1) -> str:
    """`steps` grades worse than `grade`, never past the worst; unknown grades → worst."""
    if grade not in grades:
        return grades[-1]
    return grades[min(grades.index(grade) + steps, len(grades) - 1)]


def is_worse(grades: list[str], grade: str, than: str) -> bool:
    if than not in grades:
        return False
    if grade not in grades:
        return True
    return grades.index(grade) > grades.index(than)


@transaction.atomic
def activate(version, user, effective_from: datetime.date):
    """Put a draft policy or scorecard in force from a date; it is frozen from then on."""
    if version.status != VersionStatus.DRAFT:
        raise WorkflowError(_("只有草稿版本可以启用。"))
    if isinstance(version, Scorecard):
        from creditfile.credit.services.scoring import validate_scorecard

        validate_scorecard(version)
    version.status = VersionStatus.ACTIVE
    version.effective_from = effective_from
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "effective_from", "activated_at"])
    return version


def ensure_editable(version) -> None:
    """Only drafts change, and only before anything was scored with them: an evaluation
    reads its labels, weights and bands from the version it used (scoring.stored_factors)."""
    if version.status != VersionStatus.DRAFT:
        raise WorkflowError(_("已生效的版本不能修改，请复制为新版本后修改。"))
    if version.evaluations.exists():
        raise WorkflowError(_("已有信用评估使用此版本，不能修改，请复制为新版本后修改。"))


@transaction.atomic
def new_draft_from(version, user):
    """A draft copy with the next version number: the way to change a version in force."""
    model = type(version)
    version = model.objects.get(pk=version.pk)  # a copy: the caller's object stays as it is
    children = list(version.grades.all()) if model is GradePolicy else list(version.factors.all())
    latest = model.objects.order_by("-version").values_list("version", flat=True).first() or 0
    version.pk = None
    version.version = latest + 1
    version.status = VersionStatus.DRAFT
    version.effective_from = None
    version.activated_at = None
    version.created_by = user
    version.notes = ""
    version.save()
    for child in children:
        child.pk = None
        if model is GradePolicy:
            child.policy = version
        else:
            child.scorecard = version
        child.save()
    return version
