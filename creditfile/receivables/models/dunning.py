"""Dunning 催收政策与催款函 (R-30): each selling company's escalation ladder, the editable
letter templates, the runs that propose the next step, and the letters as they were sent.

Which level an invoice has reached is kept per invoice (`DunningNotice`, one row per level
given, unique), so a run never proposes the same level twice and a customer climbs the
ladder one step at a time.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from creditfile.core.fields import MoneyField
from creditfile.receivables.choices import DunningChannel, RunStatus

_USER = settings.AUTH_USER_MODEL


class DunningTemplate(models.Model):
    """A letter's text in Django template syntax over the variables documented in
    services/dunning_letters.py (VARIABLES); edited by the credit manager."""

    HISTORY_ROOT = ""

    name = models.CharField(_("模板名称"), max_length=60, unique=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    updated_by = models.ForeignKey(
        _USER,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("催款函模板")
        verbose_name_plural = _("催款函模板")
        ordering = ["name"]

    def __str__(self):
        return self.name


class DunningPolicy(models.Model):
    """One per selling company; created with the default ladder on first use."""

    HISTORY_ROOT = ""

    company = models.OneToOneField(
        "core.Company",
        verbose_name=_("销售公司"),
        on_delete=models.CASCADE,
        related_name="dunning_policy",
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("催收政策")
        verbose_name_plural = _("催收政策")

    def __str__(self):
        # The company's name, not str(company): Company.default() may hold a lazy name.
        return str(_("%(company)s 催收政策")) % {"company": str(self.company.name)}


class DunningLevel(models.Model):
    HISTORY_ROOT = "policy"

    policy = models.ForeignKey(
        DunningPolicy, verbose_name=_("催收政策"), on_delete=models.CASCADE, related_name="levels"
    )
    level = models.PositiveSmallIntegerField(_("级别"))
    name = models.CharField(_("名称"), max_length=60)
    days_overdue = models.PositiveIntegerField(_("逾期天数达到"))
    channel = models.CharField(_("方式"), max_length=10, choices=DunningChannel.choices)
    template = models.ForeignKey(
        DunningTemplate,
        verbose_name=_("函件模板"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="levels",
        help_text=_("信函、电子邮件、律师函须选模板；电话、上门可选作通话提纲"),
    )
    pay_within_days = models.PositiveSmallIntegerField(
        _("限期付款天数"), default=10, help_text=_("函件要求客户在发函后几天内付清")
    )

    class Meta:
        verbose_name = _("催收级别")
        verbose_name_plural = _("催收级别")
        ordering = ["policy", "level"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "level"], name="dunning_level_unique"),
            models.UniqueConstraint(
                fields=["policy", "days_overdue"], name="dunning_level_days_unique"
            ),
            models.CheckConstraint(condition=Q(level__gte=1), name="dunning_level_from_one"),
        ]

    def __str__(self):
        return str(_("第%(level)s级 %(name)s")) % {"level": self.level, "name": self.name}

    @property
    def sends_letter(self) -> bool:
        return self.channel in (
            DunningChannel.LETTER,
            DunningChannel.EMAIL,
            DunningChannel.LAWYER,
        )


class DunningRun(models.Model):
    """One pass over a company's overdue invoices as of a date: proposed, reviewed by a
    person, then confirmed (letters generated, communication logged) or cancelled."""

    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    as_of = models.DateField(_("催收日期"))
    status = models.CharField(
        _("状态"), max_length=10, choices=RunStatus.choices, default=RunStatus.PROPOSED
    )
    created_by = models.ForeignKey(
        _USER, verbose_name=_("发起人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        _USER,
        verbose_name=_("确认人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("催收批次")
        verbose_name_plural = _("催收批次")
        ordering = ["-created_at", "-id"]
        permissions = [("run_dunning", _("可以发起并确认催收批次"))]

    def __str__(self):
        return str(_("催收批次 #%(pk)s（%(date)s）")) % {"pk": self.pk, "date": self.as_of}


class DunningProposal(models.Model):
    """What the run proposes for one customer: the highest level any of its invoices
    reached, in one communication that lists every overdue invoice."""

    run = models.ForeignKey(
        DunningRun, verbose_name=_("催收批次"), on_delete=models.CASCADE, related_name="proposals"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.ForeignKey(
        DunningLevel, verbose_name=_("催收级别"), on_delete=models.PROTECT, related_name="+"
    )
    total_overdue = MoneyField(_("逾期合计（人民币）"))
    selected = models.BooleanField(_("确认发出"), default=True)
    letter = models.OneToOneField(
        "receivables.DunningLetter",
        verbose_name=_("函件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposal",
    )
    case = models.ForeignKey(
        "receivables.CollectionCase",
        verbose_name=_("催收案件"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("催收建议")
        verbose_name_plural = _("催收建议")
        ordering = ["run", "-total_overdue", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="one_proposal_per_customer")
        ]

    def __str__(self):
        return f"{self.run} {self.customer}"


class DunningProposalLine(models.Model):
    """One overdue invoice of a proposal; `new_level` empty means it is only listed (its
    next level is not due yet), so the customer still sees it in the letter."""

    proposal = models.ForeignKey(
        DunningProposal, verbose_name=_("催收建议"), on_delete=models.CASCADE, related_name="lines"
    )
    invoice = models.ForeignKey(
        "receivables.Invoice", verbose_name=_("发票"), on_delete=models.CASCADE, related_name="+"
    )
    days_overdue = models.PositiveIntegerField(_("逾期天数"))
    open_base = MoneyField(_("未收金额（人民币）"))
    previous_level = models.PositiveSmallIntegerField(_("已催级别"), default=0)
    new_level = models.PositiveSmallIntegerField(_("本次级别"), null=True, blank=True)

    class Meta:
        verbose_name = _("催收建议明细")
        verbose_name_plural = _("催收建议明细")
        ordering = ["proposal", "invoice__due_date", "invoice_id"]

    def __str__(self):
        return f"{self.invoice} {self.previous_level} → {self.new_level or '-'}"


class DunningNotice(models.Model):
    """Level `level` was given for this invoice; one row per level, never twice."""

    invoice = models.ForeignKey(
        "receivables.Invoice",
        verbose_name=_("发票"),
        on_delete=models.CASCADE,
        related_name="dunning_notices",
    )
    level = models.PositiveSmallIntegerField(_("级别"))
    given_on = models.DateField(_("日期"))
    run = models.ForeignKey(
        DunningRun, verbose_name=_("催收批次"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("发票催收记录")
        verbose_name_plural = _("发票催收记录")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="one_notice_per_level")
        ]

    def __str__(self):
        return f"{self.invoice} {self.level}"


class DunningLetter(models.Model):
    """A letter as it was sent: subject, body and the invoice table are frozen when it is
    generated, so the PDF and DOCX printed later say exactly what the customer received."""

    HISTORY_ROOT = "customer"

    company = models.ForeignKey(
        "core.Company", verbose_name=_("销售公司"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="dunning_letters",
    )
    case = models.ForeignKey(
        "receivables.CollectionCase",
        verbose_name=_("催收案件"),
        on_delete=models.PROTECT,
        related_name="letters",
    )
    level = models.PositiveSmallIntegerField(_("催收级别"), null=True, blank=True)
    channel = models.CharField(_("方式"), max_length=10, choices=DunningChannel.choices)
    template_name = models.CharField(_("模板"), max_length=60)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    invoices = models.JSONField(_("逾期发票明细"), default=list)
    total_overdue = MoneyField(_("逾期合计（人民币）"))
    letter_date = models.DateField(_("发函日期"))
    generated_by = models.ForeignKey(
        _USER, verbose_name=_("生成人"), on_delete=models.PROTECT, related_name="+"
    )
    generated_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("催款函")
        verbose_name_plural = _("催款函")
        ordering = ["-generated_at", "-id"]

    def __str__(self):
        return self.subject
