from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "creditfile.customers"
    label = "customers"
    verbose_name = _("客户档案")

    def ready(self):
        from creditfile.customers import signals

        signals.connect()
