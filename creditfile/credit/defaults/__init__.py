"""What a new installation starts with: a grade policy, a scorecard, an approval matrix,
reply-letter templates and sanction rules, each documented in docs/credit-policy.md.

Installed after every migrate, each part only where its table is still empty, so an
administrator's own versions are never touched (to stop using a rule, deactivate it).
"""

from django.db import transaction


@transaction.atomic
def install_defaults() -> None:
    from creditfile.credit.defaults import approval, letters, policy, sanctions, scorecard

    policy.install()
    scorecard.install()
    approval.install()
    letters.install()
    sanctions.install()


def install_defaults_after_migrate(using="default", **kwargs) -> None:
    """Skipped when the credit tables are absent (a migrate back to before them)."""
    from django.db import connections

    from creditfile.credit.models import ApprovalRule, SanctionRule

    tables = set(connections[using].introspection.table_names())
    if {ApprovalRule._meta.db_table, SanctionRule._meta.db_table} <= tables:
        install_defaults()
