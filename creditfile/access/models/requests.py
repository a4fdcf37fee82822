"""Read requests 查阅申请单 and lending (R-41).

A request names the customers someone wants to read, why, and for which period. It goes
through approval steps (the department manager of each owning department; the general
manager as well when a file is company level). Once approved, the archivist lends the
files: from `lent_at` the requester reads them, until the return is recorded or
`due_back_at` passes, whichever comes first.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReadRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("审批中")
        APPROVED = "approved", _("已批准")
        REFUSED = "refused", _("已拒绝")
        WITHDRAWN = "withdrawn", _("已撤回")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="read_requests",
    )
    purpose = models.CharField(_("查阅目的"), max_length=300)
    wanted_from = models.DateField(_("查阅期间自"))
    wanted_to = models.DateField(_("查阅期间至"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("审批完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("查阅申请")
        verbose_name_plural = _("查阅申请")
        ordering = ["-submitted_at", "-pk"]
        permissions = [("lend_files", _("登记档案借阅与归还"))]

    def __str__(self):
        return str(_("查阅申请 #%(number)s")) % {"number": self.pk}


class RequestedCustomer(models.Model):
    request = models.ForeignKey(
        ReadRequest, verbose_name=_("查阅申请"), on_delete=models.CASCADE, related_name="items"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="read_request_items",
    )
    # The level when requested: it decided the approval chain.
    confidentiality = models.CharField(_("保密级别"), max_length=12)

    class Meta:
        verbose_name = _("申请查阅的客户")
        verbose_name_plural = _("申请查阅的客户")
        constraints = [
            models.UniqueConstraint(fields=["request", "customer"], name="read_request_customer")
        ]

    def __str__(self):
        return f"{self.request_id}: {self.customer_id}"


class ApprovalStep(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("部门经理审批")
        COMPANY = "company", _("公司级审批")

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("同意")
        REFUSED = "refused", _("拒绝")
        SKIPPED = "skipped", _("无需审批")

    request = models.ForeignKey(
        ReadRequest, verbose_name=_("查阅申请"), on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveSmallIntegerField(_("顺序"))
    kind = models.CharField(_("审批类型"), max_length=12, choices=Kind.choices)
    # A department step: a manager of this department (or a department above it) decides.
    department = models.ForeignKey(
        "core.Department",
        verbose_name=_("部门"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A company step: someone holding this role decides.
    role = models.CharField(_("审批角色"), max_length=30, blank=True)
    decision = models.CharField(
        _("审批结果"), max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    comment = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("查阅审批步骤")
        verbose_name_plural = _("查阅审批步骤")
        ordering = ["request", "order"]
        constraints = [
            models.UniqueConstraint(fields=["request", "order"], name="read_request_step_order")
        ]

    def __str__(self):
        return f"{self.request_id}.{self.order} {self.kind}"


class Lending(models.Model):
    """The archivist's register entry: the files lent for one approved request."""

    request = models.OneToOneField(
        ReadRequest, verbose_name=_("查阅申请"), on_delete=models.PROTECT, related_name="lending"
    )
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("借出登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    lent_at = models.DateTimeField(_("借出时间"))
    due_back_at = models.DateTimeField(_("应归还时间"), db_index=True)
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("归还登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("档案借阅登记")
        verbose_name_plural = _("档案借阅登记")
        ordering = ["-lent_at", "-pk"]

    def __str__(self):
        return str(_("借阅 #%(number)s")) % {"number": self.request_id}

    def is_active(self, now=None) -> bool:
        now = now or timezone.now()
        return self.returned_at is None and self.lent_at <= now < self.due_back_at

    def is_overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.returned_at is None and now >= self.due_back_at
