"""creditfile handover --from USER --to USER --reason TEXT [--no-deactivate] (R-43).

The same service as the handover screen, for operators handling departures in bulk.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from creditfile.core.history import acting_as


class Command(BaseCommand):
    help = (
        "离职交接：把移交人负责的客户和未完成的工作一次性移交给接手人，并（默认）停用移交人账号。"
        " Hand a departing user's customers and open work over to a successor."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="departing", required=True, help="移交人用户名 · departing"
        )
        parser.add_argument(
            "--to", dest="successor", required=True, help="接手人用户名 · successor"
        )
        parser.add_argument("--reason", required=True, help="交接原因 · reason")
        parser.add_argument(
            "--no-deactivate",
            action="store_true",
            help="不停用移交人账号（如调岗）· keep the departing user active",
        )

    def handle(self, *args, departing, successor, reason, no_deactivate, **options):
        from creditfile.core.services import handover

        users = get_user_model().objects
        departing_user = users.filter(username=departing).first()
        if departing_user is None:
            raise CommandError(f"用户 {departing} 不存在。 No user {departing!r}.")
        successor_user = users.filter(username=successor).first()
        if successor_user is None:
            raise CommandError(f"用户 {successor} 不存在。 No user {successor!r}.")
        try:
            with acting_as(user=None, label="handover"):
                record = handover.hand_over(
                    departing_user,
                    successor_user,
                    by=None,
                    reason=reason,
                    deactivate=not no_deactivate,
                )
        except handover.HandoverError as refused:
            raise CommandError(str(refused.message)) from refused
        self.stdout.write(f"creditfile handover #{record.pk}: {departing} → {successor}")
        for group in handover.grouped_items(record):
            self.stdout.write(f"  {group.label}  {len(group.items)}")
        if record.deactivated:
            self.stdout.write(f"已停用 Deactivated  {departing}")
        self.stdout.write(self.style.SUCCESS("完成 Done."))
