"""creditfile annual-reviews --year Y --user NAME: the year-end batch of 年审评价报告 (R-26)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from creditfile.core.history import acting_as


class Command(BaseCommand):
    help = (
        "年末批量编制年审评价报告（该年度所有待复评的年度复评）。"
        " Prepare the annual review report of every due annual review of a year."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, default=None, help="年度（默认今年）· year")
        parser.add_argument(
            "--user",
            required=True,
            help="以此用户名编制（须为信用管理人员）· prepare as this user (credit staff)",
        )

    def handle(self, *args, year, user, **options):
        from creditfile.credit.services.errors import WorkflowError
        from creditfile.credit.services.reviews import prepare_all_annual_reports

        year = year or timezone.localdate().year
        preparer = get_user_model().objects.filter(username=user, is_active=True).first()
        if preparer is None:
            raise CommandError(f"用户 {user} 不存在或已停用。 No active user {user!r}.")
        try:
            with acting_as(user=preparer, label="annual-reviews"):
                counts = prepare_all_annual_reports(year, preparer)
        except WorkflowError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(f"creditfile annual-reviews {year}")
        self.stdout.write(f"已编制 Prepared  {counts['prepared']}")
        self.stdout.write(f"失败 Failed      {counts['failed']}")
        for line in counts["errors"][:50]:
            self.stdout.write(f"  {line}")
        if len(counts["errors"]) > 50:
            self.stdout.write(f"  … {len(counts['errors']) - 50} more")
        self.stdout.write(self.style.SUCCESS("完成 Done."))
