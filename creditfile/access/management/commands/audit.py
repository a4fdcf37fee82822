"""`creditfile audit verify [--against-backup FILE]`: check the audit trail's hash chain.

Exit status 0: the chain is whole; 1: the first broken or missing event is named (or the
backup cannot be read); 2: the chain is whole but the append-only triggers are missing.
"""

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from creditfile.access.services.verify import anchor_from_backup, verify_chain
from creditfile.core.services.backup import BackupError


class Command(BaseCommand):
    help = "审计记录 Audit trail: creditfile audit verify [--against-backup FILE]"

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser(
            "verify", help="校验审计记录的哈希链 check the whole hash chain"
        )
        verify.add_argument(
            "--against-backup",
            type=Path,
            metavar="FILE",
            help="并核对该备份记录的链头 also prove nothing up to this backup's chain head changed",
        )

    def handle(self, *args, action, against_backup=None, **options):
        anchor = None
        if against_backup is not None:
            if not against_backup.is_file():
                raise CommandError(f"找不到备份文件 Backup not found: {against_backup}")
            try:
                anchor = anchor_from_backup(against_backup)
            except BackupError as error:
                raise CommandError(str(error)) from error
        started = time.perf_counter()
        report = verify_chain(anchor)
        seconds = time.perf_counter() - started
        if not report.ok:
            raise CommandError(
                f"审计链已被破坏 Audit chain BROKEN at event #{report.problem.event_id}: "
                f"{report.problem.message}",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"审计链完好 Audit chain OK: {report.checked} 个事件 events, "
                f"链头 head #{report.last_id} {report.last_hash} ({seconds:.1f} s)"
            )
        )
        if anchor is not None:
            self.stdout.write(
                f"与备份一致 Matches the backup's chain head #{anchor.last_id}: {against_backup}"
            )
        if report.triggers_missing:
            raise CommandError(
                "审计表缺少防篡改触发器 Append-only triggers missing: "
                + ", ".join(report.triggers_missing)
                + "（运行 creditfile migrate 或联系管理员）",
                returncode=2,
            )
