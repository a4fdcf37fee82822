"""`creditfile restore FILE [--yes]`: put a backup back, after checking it (R-45)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from creditfile.core.management.commands.backup import format_counts
from creditfile.core.services.backup import BackupError, check_restorable, restore_backup


class Command(BaseCommand):
    help = "从备份恢复数据库与附件（先校验）。Restore database and attachments from a backup."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="不询问，直接恢复")
        parser.add_argument(
            "--no-safety-backup",
            action="store_true",
            help="恢复前不先备份当前数据（默认会先备份到 数据目录/backups）",
        )

    def handle(self, *args, file, yes, no_safety_backup, **options):
        if not file.is_file():
            raise CommandError(f"找不到备份文件 Backup not found: {file}")
        try:
            manifest = check_restorable(file)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"备份 Backup: {file}\n创建于 Created: {manifest['created_at']}  "
            f"版本 Version: {manifest['app_version']}  数据库 Database: "
            f"{manifest['database_vendor']}  附件文件 Files: {manifest.get('file_count', 0)}"
        )
        self.stdout.write("备份中的记录数 Rows in the backup:")
        for line in format_counts(manifest.get("counts", {})):
            self.stdout.write(line)
        if not yes and not self.confirm():
            raise CommandError("已取消，未做任何更改。Cancelled, nothing changed.")
        try:
            result = restore_backup(file, manifest, safety_backup=not no_safety_backup)
        except BackupError as error:
            raise CommandError(str(error)) from error
        if result.safety_backup:
            self.stdout.write(
                f"恢复前的数据已备份到 Previous state saved to: {result.safety_backup}"
            )
        if result.migrations_applied:
            self.stdout.write("已升级到当前版本 Migrated: " + ", ".join(result.migrations_applied))
        if result.mismatches:
            lines = [
                f"  {label}: 备份 backup {expected}, 现在 now {actual}"
                for label, (expected, actual) in sorted(result.mismatches.items())
            ]
            if result.migrations_applied:
                # Data migrations may legitimately add rows (reference data, roles).
                self.stdout.write(
                    self.style.WARNING("迁移后记录数有变化 Counts changed by migrations:")
                )
                self.stdout.write("\n".join(lines))
            else:
                raise CommandError(
                    "恢复后记录数与备份不符 Restored counts differ from the backup:\n"
                    + "\n".join(lines)
                )
        self.stdout.write(
            self.style.SUCCESS("恢复完成，记录数已核对。Restore complete, counts checked.")
        )

    def confirm(self) -> bool:
        self.stdout.write(
            self.style.WARNING(
                "当前数据库和附件目录将被备份内容替换。请先停止所有 CreditFile 服务。\n"
                "The current database and attachments will be REPLACED. Stop all servers first."
            )
        )
        try:
            answer = input("输入 yes 继续 Type 'yes' to continue: ")
        except EOFError:
            return False
        return answer.strip().lower() == "yes"
