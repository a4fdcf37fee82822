"""`creditfile import customers|contacts FILE.xlsx`: the Excel import from the command line."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from creditfile.customers.imports import CUSTOMERS, KINDS, import_workbook

HELP = """Import customers and their contacts from an Excel workbook (the template that the
import screen offers for download).

  customers  reads the 客户 sheet and, when the workbook also has a 联系人 sheet, its
             contacts, all in one transaction (contacts may name customers of the same file);
  contacts   reads only the 联系人 sheet; each contact's customer must already exist.

All or nothing: when any row is bad nothing is written and every bad row is listed as
sheet, row, column and problem. A customer with the same unified social credit code is
updated, never duplicated; a contact is matched by customer and name.

Changes are logged as made by --user (whose rights are checked) or, without --user, by
the operator at the command line, with the label import:<file name>.

Exit status: 0 imported (or checked, with --dry-run); 1 the file or a row is bad and
nothing was written; 2 written with --skip-bad-rows but some rows were skipped."""


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        from argparse import RawDescriptionHelpFormatter

        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS, help="customers (客户 + 联系人) or contacts")
        parser.add_argument("file", help="the .xlsx workbook")
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="write the good rows and report the bad ones instead of importing nothing",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the whole file, write nothing"
        )
        parser.add_argument(
            "--user", help="username the import is made as (its permissions are checked)"
        )

    def handle(self, *args, kind=CUSTOMERS, file, skip_bad_rows, dry_run, user, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user, is_active=True).first()
            if acting is None:
                raise CommandError(f"No active user named {user!r}.")
        with open(path, "rb") as stream:
            try:
                result = import_workbook(
                    stream, path.name, acting, kind, skip_bad_rows=skip_bad_rows, dry_run=dry_run
                )
            except PermissionDenied:
                raise CommandError(f"{user} may not import customers.") from None
        for problem in result.problems:
            row = f"row {problem.row}" if problem.row else ""
            where = "/".join(part for part in (problem.sheet, row, problem.column) if part)
            self.stdout.write(f"{where}: {problem.message}" if where else problem.message)
        for sheet, counts in result.counts.items():
            self.stdout.write(
                f"{sheet}: created {counts.created}, updated {counts.updated}, "
                f"unchanged {counts.unchanged}, bad rows {counts.skipped}"
            )
        if result.file_problem:
            raise CommandError("The file cannot be imported; nothing was changed.", returncode=1)
        if not result.ok and not result.committed:
            raise CommandError(f"{result.bad_rows} bad row(s); nothing was written.", returncode=1)
        if dry_run:
            self.stdout.write(self.style.SUCCESS("Check passed; nothing was written (--dry-run)."))
        elif not result.ok:
            raise CommandError(
                f"Imported the good rows; skipped {result.bad_rows} bad row(s).", returncode=2
            )
        else:
            self.stdout.write(self.style.SUCCESS("Imported."))
