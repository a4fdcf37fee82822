"""ERP file imports: a saved column mapping per source, and one job per uploaded file.

The mapping is what lets a 用友/金蝶 export be imported without code: which header of the
file fills which field of the ledger, and how the file writes dates and decimals. The job
row is both the queue entry of the background worker and what the progress bar polls.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

_USER = settings.AUTH_USER_MODEL


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("发票（应收单）")
    PAYMENT = "payment", _("回款（收款单）")
    CREDIT_NOTE = "credit_note", _("贷项通知单（红字）")
    ORDER = "order", _("销售订单")


class DateFormat(models.TextChoices):
    AUTO = "", _("自动（年-月-日，如 2026-06-30、2026/6/30、2026年6月30日、20260630）")
    DMY = "%d/%m/%Y", _("日/月/年（30/06/2026）")
    MDY = "%m/%d/%Y", _("月/日/年（06/30/2026）")


class ImportMapping(models.Model):
    """How one source's export of one kind of document is read."""

    name = models.CharField(_("映射名称"), max_length=80, unique=True)
    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(
        _("来源系统"),
        max_length=40,
        help_text=_("如“用友U8”“金蝶K3”；与单据号一起识别单据，重复导入时更新而不重复建立"),
    )
    kind = models.CharField(_("单据类型"), max_length=12, choices=DocumentKind.choices)
    columns = models.JSONField(_("列对应"), default=dict, help_text=_("文件列名 → 字段"))
    date_format = models.CharField(
        _("日期格式"),
        max_length=12,
        choices=DateFormat.choices,
        default=DateFormat.AUTO,
        blank=True,
    )
    decimal_comma = models.BooleanField(
        _("小数点为逗号"), default=False, help_text=_("如 1.234,56；默认 1,234.56")
    )
    created_by = models.ForeignKey(
        _USER, verbose_name=_("创建人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("导入映射")
        verbose_name_plural = _("导入映射")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def header_for(self, field: str) -> str:
        """The file's header that fills `field`, as the file writes it."""
        return next((header for header, name in self.columns.items() if name == field), "")


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    CHECKING = "checking", _("检查中")
    WRITING = "writing", _("写入中")
    DONE = "done", _("已导入")
    REFUSED = "refused", _("未导入（有错误）")
    FAILED = "failed", _("失败")


RUNNING = (JobStatus.CHECKING, JobStatus.WRITING)
FINISHED = (JobStatus.DONE, JobStatus.REFUSED, JobStatus.FAILED)


class ImportJob(models.Model):
    """One uploaded file on its way into the ledger; the worker's queue and the report."""

    mapping = models.ForeignKey(
        ImportMapping, verbose_name=_("导入映射"), on_delete=models.PROTECT, related_name="jobs"
    )
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", blank=True)
    filename = models.CharField(_("文件名"), max_length=255)
    skip_bad_rows = models.BooleanField(_("跳过错误行"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("总行数（估计）"), default=0)
    rows_checked = models.PositiveIntegerField(_("已检查行数"), default=0)
    rows_written = models.PositiveIntegerField(_("已写入行数"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("无变化"), default=0)
    bad_rows = models.PositiveIntegerField(_("错误行数"), default=0)
    message = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        _USER, verbose_name=_("导入人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "id"], name="importjob_status")]
        permissions = [("import_ledger", _("可以从ERP导出文件导入应收台账"))]

    def __str__(self):
        return self.filename

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        """Checking is the first half of the bar, writing the second."""
        if self.status in FINISHED:
            return 100
        if not self.rows_total:
            return 0
        done = min(self.rows_checked, self.rows_total) + min(self.rows_written, self.rows_total)
        return min(99, done * 50 // self.rows_total)


class ImportProblem(models.Model):
    """One line of a job's report: row of the file, column as the file names it, problem."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField(_("行号"), null=True, blank=True)
    column = models.CharField(_("列"), max_length=200, blank=True)
    message = models.TextField(_("问题"))

    class Meta:
        verbose_name = _("导入问题")
        verbose_name_plural = _("导入问题")
        ordering = ["row", "id"]

    def __str__(self):
        return f"{self.row} {self.column}: {self.message}"


class ErpCustomerCode(models.Model):
    """A source's own code for a customer, learned from rows that also carry the customer's
    name or unified social credit code, so later files that give only the code still match."""

    source = models.CharField(_("来源系统"), max_length=40)
    code = models.CharField(_("客户编码"), max_length=60)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("ERP客户编码")
        verbose_name_plural = _("ERP客户编码")
        constraints = [
            models.UniqueConstraint(fields=["source", "code"], name="erp_customer_code_unique")
        ]

    def __str__(self):
        return f"{self.source}:{self.code}"
