from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "creditfile.access"
    label = "access"
    verbose_name = _("保密与审计")

    def ready(self):
        from creditfile.access import signals

        signals.connect()
