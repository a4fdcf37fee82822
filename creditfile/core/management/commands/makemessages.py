"""makemessages that also extracts the scoring engine's own translation helpers.

`Engine.t(...)` caches translations per batch run and `flag_problem(...)` collects scorecard
problems; both take literal Chinese msgids that xgettext would otherwise not see.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = makemessages.Command.xgettext_options + [
        "--keyword=t",
        "--keyword=flag_problem",
    ]
