from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "creditfile.credit"
    label = "credit"
    verbose_name = _("信用管理")

    def ready(self):
        from django.db.models.signals import post_migrate

        from creditfile.credit.defaults import install_defaults_after_migrate

        post_migrate.connect(
            install_defaults_after_migrate, sender=self, dispatch_uid="credit_defaults"
        )
