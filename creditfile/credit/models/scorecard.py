"""Scorecards (R-23): factors with bands → points and a weight, score → grade.

Like policies, a scorecard is versioned: administrators draft a new version and
activate it; an evaluation points at the version it used and keeps its own copy of
every input and every factor's points, so it reads the same forever.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.credit.choices import Direction, FactorGroup, VersionStatus


class Scorecard(models.Model):
    HISTORY_ROOT = ""

    name = models.CharField(_("名称"), max_length=100)
    version = models.PositiveIntegerField(_("版本"), unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    grade_bands = models.JSONField(
        _("分数→等级"),
        default=list,
        help_text=_('从高到低，例如 [{"grade": "A", "min_score": 80}, …]'),
    )
    notes = models.TextField(_("修订说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评分卡")
        verbose_name_plural = _("评分卡")
        ordering = ["-version"]

    def __str__(self):
        return f"{self.name} v{self.version}"


class ScorecardFactor(models.Model):
    """One factor: which input it reads, how values map to points, and its weight.

    `bands` is a list evaluated in order; the first that matches gives the points:
    numeric factors use {"min": x, "max": y, "points": p, "label": "…"} (min inclusive,
    max exclusive, either may be null); category factors use {"value": v, "points": p}.
    Points are 0–100; the factor contributes points × weight / 100 to the total.
    """

    HISTORY_ROOT = "scorecard"

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("评分卡"), on_delete=models.CASCADE, related_name="factors"
    )
    code = models.SlugField(_("代码"), max_length=40)
    label = models.CharField(_("名称"), max_length=100)
    group = models.CharField(_("类别"), max_length=20, choices=FactorGroup.choices)
    input_key = models.CharField(_("取值来源"), max_length=40)
    direction = models.CharField(_("方向"), max_length=10, choices=Direction.choices)
    weight = models.DecimalField(_("权重（%）"), max_digits=5, decimal_places=2)
    bands = models.JSONField(_("分档"), default=list)
    missing_points = models.DecimalField(
        _("缺少资料时得分"), max_digits=5, decimal_places=2, default=0
    )
    reasoning = models.TextField(_("设置理由"), blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("评分因素")
        verbose_name_plural = _("评分因素")
        ordering = ["scorecard", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "code"], name="factor_unique_code"),
        ]

    def __str__(self):
        return self.label
