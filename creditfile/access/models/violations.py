"""Weekly violation summaries 违规汇总 (R-42): each manager's people's denied attempts."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ViolationSummary(models.Model):
    """One manager's summary of one week (Monday…Sunday): who tried what and was refused.

    Written by `creditfile daily` on Mondays for the week before; never edited afterwards.
    `lines` holds one entry per person: username, name, count, customers, first and last
    time (ISO), most frequent object types.
    """

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.PROTECT,
        related_name="violation_summaries",
    )
    week_start = models.DateField(_("周起始日"))
    week_end = models.DateField(_("周截止日"))
    event_count = models.PositiveIntegerField(_("越权次数"), default=0)
    lines = models.JSONField(_("明细"), default=list)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    email_error = models.CharField(_("邮件发送错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("违规汇总")
        verbose_name_plural = _("违规汇总")
        ordering = ["-week_start", "manager__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "week_start"], name="access_violation_summary_once_a_week"
            )
        ]

    def __str__(self):
        return f"{self.manager} {self.week_start:%Y-%m-%d}…{self.week_end:%Y-%m-%d}"
