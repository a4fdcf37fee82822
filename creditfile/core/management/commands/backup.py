"""`creditfile backup`: one archive of database + attachments + manifest (R-45).

creditfile backup [--to DIR] [--keep N]   write creditfile-backup-YYYYMMDD-HHMMSS.tar
creditfile backup --verify FILE           integrity check of an existing archive
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from creditfile.core.services.backup import BackupError, create_backup, verify_backup


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def format_counts(counts: dict[str, int]) -> list[str]:
    """Non-empty tables only: a backup of a live system has dozens of models."""
    return [f"  {label}: {count}" for label, count in sorted(counts.items()) if count]


class Command(BaseCommand):
    help = "备份数据库与附件到一个归档文件，或校验一个备份。Back up, or verify a backup."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to", type=Path, metavar="DIR", help="备份目录（默认：数据目录/backups）"
        )
        parser.add_argument(
            "--keep",
            type=positive_int,
            metavar="N",
            help="只保留该目录中最新的 N 个备份，删除更早的",
        )
        parser.add_argument("--verify", type=Path, metavar="FILE", help="校验备份文件，不做备份")

    def handle(self, *args, to, keep, verify, **options):
        if verify is not None:
            if to is not None or keep is not None:
                raise CommandError("--verify 不能与 --to/--keep 同时使用。")
            return self.verify(verify)
        try:
            result = create_backup(to, keep=keep)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"备份完成 Backup written: {result.path}"))
        self.stdout.write(f"大小 Size: {human_size(result.size)}")
        self.stdout.write(f"附件文件 Files: {result.file_count}")
        self.stdout.write("记录数 Rows:")
        for line in format_counts(result.counts):
            self.stdout.write(line)
        for path in result.pruned:
            self.stdout.write(f"已删除旧备份 Removed old backup: {path.name}")

    def verify(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"找不到备份文件 Backup not found: {path}")
        result = verify_backup(path)
        if not result.ok:
            for problem in result.problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(
                f"备份校验失败 Verification FAILED: {path} ({len(result.problems)} 个问题)"
            )
        manifest = result.manifest
        self.stdout.write(self.style.SUCCESS(f"备份完好 Backup OK: {path}"))
        self.stdout.write(
            f"创建于 Created: {manifest['created_at']}  版本 Version: {manifest['app_version']}  "
            f"数据库 Database: {manifest['database_vendor']}  "
            f"成员 Members: {len(manifest['members'])}"
        )
