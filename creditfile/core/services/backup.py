"""Backup, integrity check and restore of a whole installation (R-45: no data loss).

A backup is ONE tar file: the database dump, every file of the attachments folder and a
manifest with a SHA-256 per member, so a copy on a shelf can be checked before anyone
relies on it, and a restore refuses an archive that has rotted or been tampered with.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

import creditfile

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
FILES_PREFIX = "files/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
COUNTED_APPS = ("core", "customers")
ARCHIVE_PATTERN = re.compile(r"^creditfile-backup-(\d{8}-\d{6})(?:-(\d+))?\.tar$")
POSTGRES_CLIENT_HINT = "postgresql-client"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup, check or restore cannot go on; the message tells the operator what to do."""


@dataclass
class BackupResult:
    path: Path
    size: int
    counts: dict[str, int]
    file_count: int
    pruned: list[Path] = field(default_factory=list)


@dataclass
class VerifyResult:
    path: Path
    manifest: dict | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RestoreResult:
    manifest: dict
    counts_after: dict[str, int]
    mismatches: dict[str, tuple[int, int | None]]
    migrations_applied: list[str]
    safety_backup: Path | None


# ---------------------------------------------------------------------------- helpers


def default_backup_dir() -> Path:
    return Path(settings.DATA_DIR) / "backups"


def database_vendor() -> str:
    return connection.vendor


def counted_tables() -> dict[str, str]:
    """Model label → table of every model whose rows the manifest counts."""
    tables = {}
    for app_label in COUNTED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.managed and not model._meta.proxy:
                tables[model._meta.label] = model._meta.db_table
    return tables


def _facts(cursor, vendor: str) -> tuple[dict[str, str], dict[str, int]]:
    """Latest applied migration per app and row counts, read through any DB-API cursor.

    Raw SQL rather than the ORM, so the same code reads the live database, a SQLite copy
    and a PostgreSQL snapshot, and no access-filtering manager can hide rows.
    """
    if vendor == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    existing = {row[0] for row in cursor.fetchall()}
    migrations: dict[str, str] = {}
    if "django_migrations" in existing:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        for app_label, name in cursor.fetchall():
            migrations[app_label] = name
    counts = {}
    for label, table in sorted(counted_tables().items()):
        if table in existing:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[label] = cursor.fetchone()[0]
    return migrations, counts


def _audit_head(cursor, vendor: str) -> dict | None:
    """The audit trail's chain head in the dumped data (access.AuditChainHead), so a later
    `creditfile audit verify --against-backup` can prove no event up to it has changed.
    None for a database from before the audit trail."""
    if vendor == "sqlite":
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'access_auditchainhead'")
    else:
        cursor.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename = 'access_auditchainhead'"
        )
    if cursor.fetchone() is None:
        return None
    cursor.execute("SELECT last_id, last_hash FROM access_auditchainhead WHERE id = 1")
    row = cursor.fetchone()
    return {"last_id": row[0], "last_hash": row[1]} if row else {"last_id": 0, "last_hash": ""}


def live_counts() -> dict[str, int]:
    """Row counts of the configured database as it is now."""
    with connection.cursor() as cursor:
        return _facts(cursor, connection.vendor)[1]


class _HashingReader:
    """Hashes exactly the bytes tarfile copies, so the manifest describes what was written."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            _(
                "找不到 %(tool)s：PostgreSQL 的备份与恢复需要它。请安装 PostgreSQL 客户端工具"
                "（Debian/Ubuntu：apt install %(package)s），版本不低于数据库服务器。"
            )
            % {"tool": name, "package": POSTGRES_CLIENT_HINT}
        )
    return path


def _pg_connection_args(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore arguments and environment; the password travels in the environment,
    never on the command line where `ps` would show it."""
    args = ["--no-password"]
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ):
        if option in options:
            env[variable] = str(options[option])
    return args, env


def _run(command: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            _("%(tool)s 失败（退出码 %(code)s）：%(stderr)s")
            % {
                "tool": Path(command[0]).name,
                "code": result.returncode,
                "stderr": result.stderr.strip(),
            }
        )
    return result


def _sqlite_path() -> Path | None:
    """The database file, or None for an in-memory database (only the test suite uses one)."""
    if connection.is_in_memory_db():
        return None
    return Path(connection.settings_dict["NAME"])


# ---------------------------------------------------------------------------- backup


def _dump_sqlite(dest: Path) -> tuple[dict[str, str], dict[str, int], dict | None]:
    """Copy the live database with SQLite's online backup API: consistent while the server
    writes (WAL), unlike copying the file. Facts are read from the copy, so they match it."""
    path = _sqlite_path()
    if path is None:
        # No second connection can see an in-memory database; serialize() reads it through
        # Django's own connection, including a test's uncommitted rows.
        connection.ensure_connection()
        dest.write_bytes(connection.connection.serialize())
    else:
        if not path.exists():
            raise BackupError(
                _("数据库文件 %(path)s 不存在，请先运行 creditfile migrate。") % {"path": path}
            )
        source = sqlite3.connect(path, timeout=30)
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    copy = sqlite3.connect(dest)
    try:
        return (*_facts(copy.cursor(), "sqlite"), _audit_head(copy.cursor(), "sqlite"))
    finally:
        copy.close()


def _dump_postgresql(dest: Path) -> tuple[dict[str, str], dict[str, int], dict | None]:
    """pg_dump inside an exported snapshot: the dump, the counts and the migrations all
    describe the same instant even while users keep writing."""
    pg_dump = _require_tool("pg_dump")
    args, env = _pg_connection_args(connection.settings_dict)
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.autocommit = False
        cursor = raw.cursor()
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        _run(
            [
                pg_dump,
                *args,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={dest}",
                f"--dbname={connection.settings_dict['NAME']}",
            ],
            env,
        )
        facts = _facts(cursor, "postgresql")
        head = _audit_head(cursor, "postgresql")
        raw.rollback()
        return (*facts, head)
    finally:
        raw.close()


def _archive_name(directory: Path, now: datetime) -> Path:
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M%S")
    candidate = directory / f"creditfile-backup-{stamp}.tar"
    n = 2
    while candidate.exists():
        candidate = directory / f"creditfile-backup-{stamp}-{n}.tar"
        n += 1
    return candidate


def _media_files(root: Path) -> list[tuple[Path, str]]:
    """Every regular file under the attachments folder with its archive name, in a stable order."""
    if not root.is_dir():
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if path.is_file() and not path.is_symlink():
                relative = path.relative_to(root).as_posix()
                found.append((path, FILES_PREFIX + relative))
    return found


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> dict:
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as raw:
        reader = _HashingReader(raw)
        archive.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


def create_backup(target_dir: Path | None = None, *, keep: int | None = None) -> BackupResult:
    """Write one complete archive into target_dir and, with keep, prune older ones.

    The archive is written under a hidden temporary name and renamed at the very end, so a
    crash or a full disk never leaves a file that looks like a finished backup.
    """
    directory = Path(target_dir) if target_dir else default_backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    vendor = database_vendor()
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(_("不支持备份 %(vendor)s 数据库。") % {"vendor": vendor})
    now = timezone.now()
    db_member = DATABASE_MEMBERS[vendor]
    members: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix=".creditfile-backup-", dir=directory) as work:
        dump = Path(work) / db_member
        # The database goes first: a file uploaded after the dump is harmless in the archive,
        # while a row whose file was not yet copied would be a dangling attachment.
        if vendor == "sqlite":
            migrations, counts, audit_head = _dump_sqlite(dump)
        else:
            migrations, counts, audit_head = _dump_postgresql(dump)
        media = _media_files(Path(settings.MEDIA_ROOT))
        final = _archive_name(directory, now)
        partial = directory / f".{final.name}.partial"
        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
                members[db_member] = _add_file(archive, dump, db_member)
                for path, name in media:
                    members[name] = _add_file(archive, path, name)
                manifest = {
                    "format_version": FORMAT_VERSION,
                    "created_at": timezone.localtime(now).isoformat(),
                    "app_version": creditfile.__version__,
                    "database_vendor": vendor,
                    "database_member": db_member,
                    "migrations": migrations,
                    "counts": counts,
                    "audit_chain_head": audit_head,
                    "file_count": len(media),
                    "members": members,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
                payload = data.encode("utf-8")
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size = len(payload)
                info.mtime = int(now.timestamp())
                info.mode = 0o644
                archive.addfile(info, io.BytesIO(payload))
            with partial.open("rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(partial, final)
            _fsync_dir(directory)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    pruned = prune_backups(directory, keep, protect=final) if keep else []
    return BackupResult(
        path=final, size=final.stat().st_size, counts=counts, file_count=len(media), pruned=pruned
    )


def prune_backups(directory: Path, keep: int, protect: Path | None = None) -> list[Path]:
    """Delete archives beyond the newest `keep` in directory; other files are never touched.

    Age comes from the timestamp in the name, not the file's mtime, so copying archives
    between machines does not change which ones survive.
    """
    if keep < 1:
        raise BackupError(_("--keep 至少为 1。"))
    archives = []
    for path in Path(directory).iterdir():
        match = ARCHIVE_PATTERN.match(path.name)
        if match and path.is_file():
            archives.append(((match.group(1), int(match.group(2) or 1)), path))
    archives.sort(reverse=True)
    removed = []
    for _key, path in archives[keep:]:
        if protect is not None and path.resolve() == Path(protect).resolve():
            continue
        path.unlink()
        removed.append(path)
    return removed


# ---------------------------------------------------------------------------- verify


def _safe_member_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return (
        bool(name)
        and not pure.is_absolute()
        and ".." not in pure.parts
        and "\\" not in name
        and str(pure) == name
    )


def _hash_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    digest = hashlib.sha256()
    handle = archive.extractfile(member)
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def read_manifest(path: Path) -> dict:
    """The manifest of an archive; BackupError when there is none to read."""
    try:
        with tarfile.open(path, "r:") as archive:
            try:
                member = archive.getmember(MANIFEST_NAME)
            except KeyError:
                raise BackupError(
                    _("%(path)s 中没有 %(name)s，不是 CreditFile 备份或已损坏。")
                    % {"path": path, "name": MANIFEST_NAME}
                ) from None
            manifest = json.loads(archive.extractfile(member).read().decode("utf-8"))
    except (tarfile.TarError, OSError, EOFError) as error:
        raise BackupError(
            _("无法读取备份文件 %(path)s：%(error)s") % {"path": path, "error": error}
        ) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(
            _("%(name)s 不是有效的 JSON：%(error)s") % {"name": MANIFEST_NAME, "error": error}
        ) from error
    if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), dict):
        raise BackupError(_("%(name)s 缺少成员清单（members）。") % {"name": MANIFEST_NAME})
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            _("备份格式版本 %(found)s 不受支持（本程序支持 %(supported)s）。")
            % {"found": manifest.get("format_version"), "supported": FORMAT_VERSION}
        )
    return manifest


def _check_database_dump(dump: Path, vendor: str) -> str | None:
    """Why the dump cannot be opened, or None when it opens cleanly."""
    if vendor == "sqlite":
        try:
            db = sqlite3.connect(dump)  # a throwaway copy: read-only mode trips over WAL
            try:
                rows = [row[0] for row in db.execute("PRAGMA integrity_check").fetchall()]
            finally:
                db.close()
        except sqlite3.DatabaseError as error:
            return str(error)
        return None if rows == ["ok"] else "; ".join(rows[:5])
    if vendor == "postgresql":
        try:
            _run([_require_tool("pg_restore"), "--list", str(dump)])
        except BackupError as error:
            return str(error)
        return None
    return _("未知的数据库类型 %(vendor)s") % {"vendor": vendor}


def verify_backup(path: Path) -> VerifyResult:
    """Check every member against the manifest and that the database dump opens.

    Each problem names the member, so an operator knows whether one attachment or the
    whole database is affected.
    """
    path = Path(path)
    try:
        manifest = read_manifest(path)
    except BackupError as error:
        return VerifyResult(path, None, [str(error)])
    problems: list[str] = []
    expected: dict[str, dict] = manifest["members"]
    seen: set[str] = set()
    db_extracted = False
    db_member = manifest.get("database_member")
    vendor = manifest.get("database_vendor")
    if db_member not in expected:
        problems.append(_("清单未列出数据库文件 %(name)s。") % {"name": db_member})
    with tempfile.TemporaryDirectory(prefix="creditfile-verify-") as work:
        dump_copy = Path(work) / "database"
        try:
            with tarfile.open(path, "r:") as archive:
                for member in archive:
                    name = member.name
                    if name == MANIFEST_NAME:
                        continue
                    if not _safe_member_name(name):
                        problems.append(_("不安全的成员路径：%(name)s") % {"name": name})
                        continue
                    if not member.isfile():
                        problems.append(_("成员不是普通文件：%(name)s") % {"name": name})
                        continue
                    if name in seen:
                        problems.append(_("成员重复出现：%(name)s") % {"name": name})
                        continue
                    seen.add(name)
                    if name not in expected:
                        problems.append(_("清单中未列出的成员：%(name)s") % {"name": name})
                        continue
                    if name == db_member:
                        db_extracted = True
                        digest = hashlib.sha256()
                        with dump_copy.open("wb") as out:
                            handle = archive.extractfile(member)
                            while chunk := handle.read(_CHUNK):
                                digest.update(chunk)
                                out.write(chunk)
                        actual = digest.hexdigest()
                    else:
                        actual = _hash_member(archive, member)
                    if actual != expected[name].get("sha256"):
                        db_extracted = db_extracted and name != db_member
                        problems.append(
                            _("SHA-256 不符：%(name)s（清单 %(expected)s，实际 %(actual)s）")
                            % {
                                "name": name,
                                "expected": expected[name].get("sha256"),
                                "actual": actual,
                            }
                        )
                    elif member.size != expected[name].get("size"):
                        problems.append(
                            _("大小不符：%(name)s（清单 %(expected)s 字节，实际 %(actual)s 字节）")
                            % {
                                "name": name,
                                "expected": expected[name].get("size"),
                                "actual": member.size,
                            }
                        )
        except (tarfile.TarError, OSError, EOFError) as error:
            problems.append(_("备份文件无法完整读取：%(error)s") % {"error": error})
        for name in sorted(set(expected) - seen):
            problems.append(_("缺少成员：%(name)s") % {"name": name})
        if db_extracted:
            reason = _check_database_dump(dump_copy, vendor)
            if reason:
                problems.append(
                    _("数据库文件 %(name)s 无法打开：%(reason)s")
                    % {"name": db_member, "reason": reason}
                )
    return VerifyResult(path, manifest, problems)


# ---------------------------------------------------------------------------- restore


def check_restorable(path: Path) -> dict:
    """The manifest of an archive that may be restored here; BackupError naming why not.

    Nothing is changed by this check, so a refused restore leaves the installation as it was.
    """
    manifest = read_manifest(Path(path))
    vendor = database_vendor()
    if manifest.get("database_vendor") != vendor:
        raise BackupError(
            _(
                "数据库类型不一致：备份来自 %(archive)s，本系统配置的是 %(configured)s。"
                "不同数据库之间不能直接恢复。"
            )
            % {"archive": manifest.get("database_vendor"), "configured": vendor}
        )
    result = verify_backup(path)
    if not result.ok:
        raise BackupError(
            _("备份校验失败，未做任何更改：\n%(problems)s")
            % {"problems": "\n".join(f"- {p}" for p in result.problems)}
        )
    return result.manifest


def _extract_checked(
    archive: tarfile.TarFile, member: tarfile.TarInfo | str, dest: Path, manifest: dict
) -> None:
    """Extract one member, re-hashing it: the archive could have changed since the check."""
    if isinstance(member, str):
        member = archive.getmember(member)
    name = member.name
    digest = hashlib.sha256()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        handle = archive.extractfile(member)
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != manifest["members"][name]["sha256"]:
        raise BackupError(_("解包时 SHA-256 不符：%(name)s") % {"name": name})
    os.utime(dest, (member.mtime, member.mtime))


def _restore_sqlite(archive: tarfile.TarFile, manifest: dict) -> None:
    """Swap the database file in one rename; the old WAL must go, or SQLite would replay it
    onto the restored file."""
    path = _sqlite_path()
    staged = path.with_name(path.name + ".restoring")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _extract_checked(archive, manifest["database_member"], staged, manifest)
        connections.close_all()
        if path.exists():
            # Fold the WAL into the old file first, so a crash before the rename below still
            # leaves a complete old database rather than one missing its WAL.
            old = sqlite3.connect(path)
            try:
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                old.close()
        for suffix in ("-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(staged, path)
        _fsync_dir(path.parent)
    finally:
        staged.unlink(missing_ok=True)


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")
_TOC_FOREIGN_KEY = re.compile(r"^\d+; \d+ \d+ FK CONSTRAINT (\S+) (\S+) (\S+) ")
_TOC_EXTENSION = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )(\S+)")


def _restore_postgresql(archive: tarfile.TarFile, manifest: dict, work: Path) -> None:
    """pg_restore in a single transaction: it either replaces everything or nothing."""
    pg_restore = _require_tool("pg_restore")
    dump = work / "database.pgdump"
    _extract_checked(archive, manifest["database_member"], dump, manifest)
    toc = _run([pg_restore, "--list", str(dump)]).stdout.splitlines()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = cursor.fetchone()[0]
        cursor.execute("SELECT extname FROM pg_extension")
        installed = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        current_tables = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT cls.relname, con.conname FROM pg_constraint con"
            " JOIN pg_class cls ON cls.oid = con.conrelid"
            " WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace"
        )
        current_foreign_keys = set(cursor.fetchall())
    dumped_foreign_keys = {
        (m.group(2), m.group(3))
        for line in toc
        if (m := _TOC_FOREIGN_KEY.match(line)) and m.group(1) == schema
    }
    dumped_tables = {
        m.group(2) for line in toc if (m := _TOC_TABLE.match(line)) and m.group(1) == schema
    }
    # Extensions already here stay: dropping one needs its owner (usually a superuser) and
    # would take the indexes built on it along.
    kept = [
        line for line in toc if not ((m := _TOC_EXTENSION.match(line)) and m.group(1) in installed)
    ]
    listing = work / "restore.list"
    listing.write_text("\n".join(kept) + "\n", encoding="utf-8")
    # Tables of a newer schema than the backup's would make the following migrate fail
    # ("already exists"); they hold nothing the backup knows about.
    leftovers = sorted(current_tables - dumped_tables)
    if leftovers:
        with connection.cursor() as cursor:
            quoted = ", ".join(connection.ops.quote_name(t) for t in leftovers)
            cursor.execute(f"DROP TABLE IF EXISTS {quoted} CASCADE")
    # So are a newer schema's foreign keys between tables the backup has: pg_restore --clean
    # drops only the backup's own, and a key it does not know blocks dropping the key
    # columns it points at. The tables are replaced by the backup's and migrated again.
    newer_keys = sorted(
        (table, name)
        for table, name in current_foreign_keys - dumped_foreign_keys
        if table not in leftovers
    )
    if newer_keys:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table, name in newer_keys:
                cursor.execute(
                    f"ALTER TABLE IF EXISTS {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
                )
    args, env = _pg_connection_args(connection.settings_dict)
    connections.close_all()
    _run(
        [
            pg_restore,
            *args,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--use-list={listing}",
            f"--dbname={connection.settings_dict['NAME']}",
            str(dump),
        ],
        env,
    )


def _swap_folder(staged: Path, target: Path) -> None:
    """Put the staged folder in the target's place with renames on one filesystem."""
    if target.exists() and os.path.ismount(target):
        # A mounted share (PostgreSQL installations) cannot be renamed: swap its contents.
        old = Path(tempfile.mkdtemp(prefix=".old-", dir=target))
        for entry in list(target.iterdir()):
            if entry not in (old, staged):
                os.replace(entry, old / entry.name)
        for entry in list(staged.iterdir()):
            os.replace(entry, target / entry.name)
        staged.rmdir()
        shutil.rmtree(old)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    # mkdtemp made the staged folder private; the restored one keeps the old one's mode.
    os.chmod(staged, stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o755)
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    _fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def _restore_files(archive: tarfile.TarFile, manifest: dict) -> None:
    target = Path(settings.MEDIA_ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    inside = target.exists() and os.path.ismount(target)
    staged = Path(
        tempfile.mkdtemp(
            prefix=f".{target.name}.restoring-", dir=target if inside else target.parent
        )
    )
    try:
        for member in archive:
            if member.name.startswith(FILES_PREFIX):
                relative = PurePosixPath(member.name[len(FILES_PREFIX) :])
                _extract_checked(archive, member, staged.joinpath(*relative.parts), manifest)
        _swap_folder(staged, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


def restore_backup(path: Path, manifest: dict, *, safety_backup: bool = True) -> RestoreResult:
    """Replace the database and the attachments folder with the archive's, then migrate.

    Call check_restorable first. The current state is backed up beforehand (unless told
    not to), so a restore of the wrong archive is itself undoable.
    """
    if manifest["database_vendor"] == "sqlite" and _sqlite_path() is None:
        raise BackupError(_("内存数据库无法恢复，请配置数据库文件。"))
    safety = None
    if safety_backup and _has_database():
        safety = create_backup(default_backup_dir()).path
    try:
        applied = _replace_and_migrate(Path(path), manifest)
    except Exception as error:
        if safety is None:
            raise
        raise BackupError(
            _("恢复中断：%(error)s\n恢复前的数据已保存在 %(safety)s，可用它再次恢复。")
            % {"error": error, "safety": safety}
        ) from error
    counts_after = live_counts()
    mismatches = {
        label: (expected, counts_after.get(label))
        for label, expected in manifest.get("counts", {}).items()
        if counts_after.get(label) != expected
    }
    return RestoreResult(manifest, counts_after, mismatches, applied, safety)


def _has_database() -> bool:
    if database_vendor() == "sqlite":
        path = _sqlite_path()
        return path is not None and path.exists() and path.stat().st_size > 0
    return True


def _replace_and_migrate(path: Path, manifest: dict) -> list[str]:
    """Swap in the archive's database and files, then migrate; the migrations it applied."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db.migrations.recorder import MigrationRecorder

    # Next to the data, not in /tmp: a dump can be larger than a tmpfs.
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.DATA_DIR) as work:
        with tarfile.open(path, "r:") as archive:
            if manifest["database_vendor"] == "sqlite":
                _restore_sqlite(archive, manifest)
            else:
                _restore_postgresql(archive, manifest, Path(work))
            _restore_files(archive, manifest)
    connections.close_all()
    # Content type ids in the restored database may differ from the cached ones.
    ContentType.objects.clear_cache()
    before = set(MigrationRecorder(connection).applied_migrations())
    call_command("migrate", interactive=False, verbosity=0)
    after = set(MigrationRecorder(connection).applied_migrations())
    return sorted(f"{app}.{name}" for app, name in after - before)
