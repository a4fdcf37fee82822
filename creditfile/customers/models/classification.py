"""Classification dictionaries (R-14) and regions and routes (R-16), edited by administrators."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DictionaryEntry(models.Model):
    code = models.CharField(_("代码"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class Industry(DictionaryEntry):
    class Meta(DictionaryEntry.Meta):
        verbose_name = _("行业")
        verbose_name_plural = _("行业")


class Ownership(DictionaryEntry):
    class Meta(DictionaryEntry.Meta):
        verbose_name = _("所有制/企业类型")
        verbose_name_plural = _("所有制/企业类型")


class ChannelType(DictionaryEntry):
    class Meta(DictionaryEntry.Meta):
        verbose_name = _("渠道类型")
        verbose_name_plural = _("渠道类型")


class LocationType(DictionaryEntry):
    class Meta(DictionaryEntry.Meta):
        verbose_name = _("地段类型")
        verbose_name_plural = _("地段类型")


class CustomerNature(DictionaryEntry):
    class Meta(DictionaryEntry.Meta):
        verbose_name = _("客户性质")
        verbose_name_plural = _("客户性质")


class Region(models.Model):
    """An administrative division, coded per GB/T 2260 (province, city, county)."""

    code = models.CharField(_("行政区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("级别"), default=1)

    class Meta:
        ordering = ["code"]
        verbose_name = _("地区")
        verbose_name_plural = _("地区")

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        names, region = [], self
        while region is not None:
            names.append(region.name)
            region = region.parent
        return "".join(reversed(names))

    def subtree_codes_prefix(self) -> str:
        """Codes below this region share its significant digits."""
        return self.code[: {1: 2, 2: 4}.get(self.level, 6)]


class Route(models.Model):
    """A visit route 路序: one sales rep's ordered round of customers in a region."""

    name = models.CharField(_("路线名称"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("地区"), on_delete=models.PROTECT)
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("销售代表"), on_delete=models.PROTECT
    )
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("拜访路线")
        verbose_name_plural = _("拜访路线")

    def __str__(self):
        return self.name


class RouteStop(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="stops")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE
    )
    position = models.PositiveIntegerField(_("顺序"))

    class Meta:
        ordering = ["route", "position"]
        verbose_name = _("路线站点")
        verbose_name_plural = _("路线站点")
        constraints = [
            models.UniqueConstraint(fields=["route", "customer"], name="route_customer_once"),
            models.UniqueConstraint(fields=["route", "position"], name="route_position_once"),
        ]

    def __str__(self):
        return f"{self.route} #{self.position} {self.customer}"
