"""What people record over time in a file: observations, visits, correspondence, events,
lifecycle changes and attachments (R-06, R-07, R-09, R-11, R-12)."""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.models import TimestampedModel
from creditfile.customers.choices import (
    AttachmentCategory,
    Channel,
    EventSeverity,
    Lifecycle,
    Rating,
    ReportType,
)


class UserRecord(TimestampedModel):
    """A record a named colleague wrote (rather than information with an outside source)."""

    HISTORY_ROOT = "customer"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True


class Observation(UserRecord):
    """What a salesperson noticed in letters, calls and on site (R-06, seed 000 §二.2)."""

    observed_on = models.DateField(_("观察日期"), default=timezone.localdate)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    stationery = models.CharField(
        _("信笺/文书规范"), max_length=10, choices=Rating.choices, blank=True
    )
    answer_speed = models.CharField(
        _("回复速度"), max_length=10, choices=Rating.choices, blank=True
    )
    professionalism = models.CharField(
        _("专业程度"), max_length=10, choices=Rating.choices, blank=True
    )
    interest = models.CharField(_("合作兴趣"), max_length=10, choices=Rating.choices, blank=True)
    premises = models.TextField(_("办公/经营场所"), blank=True)
    staff = models.TextField(_("员工情况"), blank=True)
    stock = models.TextField(_("库存情况"), blank=True)
    payment_habits = models.TextField(_("付款习惯"), blank=True)
    notes = models.TextField(_("其他观察"), blank=True)

    class Meta:
        verbose_name = _("销售人员观察记录")
        verbose_name_plural = _("销售人员观察记录")
        ordering = ["-observed_on", "-id"]

    def __str__(self):
        return f"{self.observed_on} {self.get_channel_display()}"


class Visit(UserRecord):
    """A visit to the customer, reported routinely, urgently or periodically (R-06, R-38)."""

    visit_date = models.DateField(_("拜访日期"), default=timezone.localdate)
    planned = models.BooleanField(_("计划内拜访"), default=True)
    purpose = models.CharField(_("拜访目的"), max_length=200)
    findings = models.TextField(_("拜访情况"), blank=True)
    next_steps = models.TextField(_("后续安排"), blank=True)
    report_type = models.CharField(
        _("报告类型"), max_length=10, choices=ReportType.choices, default=ReportType.ROUTINE
    )

    class Meta:
        verbose_name = _("拜访记录")
        verbose_name_plural = _("拜访记录")
        ordering = ["-visit_date", "-id"]

    def __str__(self):
        return f"{self.visit_date} {self.purpose}"

    def clean(self):
        if self.visit_date and self.visit_date > timezone.localdate():
            raise ValidationError(
                {"visit_date": _("拜访日期不能晚于今天；计划中的拜访请记入路序。")}
            )


class Correspondence(UserRecord):
    """A letter, fax, call, e-mail or meeting filed into the customer file (R-07)."""

    class Direction(models.TextChoices):
        INCOMING = "in", _("来")
        OUTGOING = "out", _("往")

    occurred_at = models.DateTimeField(_("时间"), default=timezone.now)
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    subject = models.CharField(_("主题"), max_length=200)
    summary = models.TextField(_("内容摘要"), blank=True)
    our_person = models.CharField(_("我方人员"), max_length=50, blank=True)
    their_person = models.CharField(_("对方人员"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("往来函电")
        verbose_name_plural = _("往来函电")
        ordering = ["-occurred_at"]

    def __str__(self):
        return self.subject


class FileEvent(UserRecord):
    """A significant event 重大变动 logged by hand (R-11)."""

    occurred_on = models.DateField(_("发生日期"), default=timezone.localdate)
    severity = models.CharField(
        _("重要程度"), max_length=10, choices=EventSeverity.choices, default=EventSeverity.IMPORTANT
    )
    title = models.CharField(_("事项"), max_length=200)
    description = models.TextField(_("详细说明"), blank=True)

    class Meta:
        verbose_name = _("重大事项")
        verbose_name_plural = _("重大事项")
        ordering = ["-occurred_on", "-id"]

    def __str__(self):
        return self.title


class LifecycleTransition(models.Model):
    """A change of lifecycle state, with who and why (R-12). Written only by services."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="lifecycle_transitions"
    )
    from_state = models.CharField(_("原状态"), max_length=20, choices=Lifecycle.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=Lifecycle.choices)
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("状态变更")
        verbose_name_plural = _("状态变更")
        ordering = ["-changed_at", "-id"]

    def __str__(self):
        return f"{self.get_from_state_display()} → {self.get_to_state_display()}"


def attachment_path(instance, filename):
    """Files are stored under a random name: the original name is kept in the database only."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"attachments/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(UserRecord):
    """A document in the file's catalogue (R-09), served only through an access-checked view."""

    HISTORY_EXCLUDE = ("sha256",)

    category = models.CharField(_("类别"), max_length=20, choices=AttachmentCategory.choices)
    title = models.CharField(_("标题"), max_length=200)
    document_date = models.DateField(_("文件日期"), default=timezone.localdate)
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["document_date", "id"]

    def __str__(self):
        return self.title
