from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "creditfile.core"
    label = "core"
    verbose_name = _("组织与用户")

    def ready(self):
        from django.db.models.signals import post_migrate

        from creditfile.core import history, roles

        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="core_sync_roles")
        history.connect_signals()
        from creditfile.core import session_rules

        session_rules.connect_signals()
