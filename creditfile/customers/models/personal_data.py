"""The register of requests people make about their own data 个人信息主体请求 (PIPL arts. 44–50)."""

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from creditfile.core.models import TimestampedModel
from creditfile.customers.choices import DataRequestKind

# Common practice in China for answering a person's request (and the national standard
# GB/T 35273's expectation): 15 working days. Weekends are skipped; public holidays are not
# known to the system, so the due date is on the early (safe) side around them.
RESPONSE_WORKING_DAYS = 15


def add_working_days(start: date, days: int) -> date:
    day = start
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


class DataSubjectRequest(TimestampedModel):
    """One request by a person for a copy, a correction or the deletion of their data.

    The person is a key person of a customer while the record exists; `person_name` keeps
    who asked even after their record was deleted (or if it never existed here). The
    register is not part of the change history: it is its own record of what was done.
    """

    kind = models.CharField(_("请求类型"), max_length=12, choices=DataRequestKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    key_person = models.ForeignKey(
        "customers.KeyPerson",
        verbose_name=_("关键人物"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="data_requests",
    )
    person_name = models.CharField(_("请求人姓名"), max_length=50)
    received_on = models.DateField(_("收到日期"))
    identity_check = models.CharField(
        _("身份核验方式"),
        max_length=200,
        help_text=_("如“当面核对身份证原件”“经法定代表人盖章函确认”。"),
    )
    details = models.TextField(_("请求内容"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.TextField(_("处理结果"), blank=True)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息主体请求")
        verbose_name_plural = _("个人信息主体请求")
        ordering = ["closed_on", "-received_on", "-id"]

    def __str__(self):
        return _("%(name)s：%(kind)s（%(date)s）") % {
            "name": self.person_name,
            "kind": self.get_kind_display(),
            "date": self.received_on,
        }

    @property
    def due_on(self) -> date:
        return add_working_days(self.received_on, RESPONSE_WORKING_DAYS)

    def is_overdue(self, today: date) -> bool:
        return self.closed_on is None and today > self.due_on

    def clean(self):
        errors: dict = {}
        if self.key_person_id and self.customer_id != self.key_person.customer_id:
            errors["key_person"] = _("关键人物须属于所选客户。")
        if self.closed_on is not None:
            if not self.outcome.strip():
                errors["outcome"] = _("办结时须写明处理结果。")
            if self.received_on and self.closed_on < self.received_on:
                errors["closed_on"] = _("办结日期不能早于收到日期。")
        if errors:
            raise ValidationError(errors)
