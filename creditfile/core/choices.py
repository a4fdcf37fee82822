from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a piece of information came from (R-10; seed 002 ch.3)."""

    CUSTOMER = "customer", _("客户提供")
    SALES = "sales", _("销售人员")
    CREDIT_DEPT = "credit", _("信用管理部门")
    CREDIT_BUREAU = "bureau", _("征信机构")
    INVESTIGATION = "investigation", _("委托调查")
    GOVERNMENT = "government", _("政府登记机关")
    ASSOCIATION = "association", _("行业协会")
    INTERNAL = "internal", _("内部部门")
