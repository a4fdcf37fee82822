"""Abstract bases every record of the customer file stands on."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from creditfile.core.choices import Source


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class ProvenanceModel(TimestampedModel):
    """A section of the file that records where its information came from (R-10).

    Nothing is trusted by default: every section starts unverified, and only credit
    staff can mark it verified, which is what makes customer-provided figures usable.
    """

    source = models.CharField(_("信息来源"), max_length=20, choices=Source.choices)
    source_date = models.DateField(_("信息日期"), default=timezone.localdate)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def needs_verification_warning(self) -> bool:
        return self.source == Source.CUSTOMER and not self.is_verified
