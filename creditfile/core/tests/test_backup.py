"""`creditfile backup` / `creditfile restore` (R-45): one archive, checked before it is trusted."""

import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

import creditfile
from creditfile.core.services import backup as backup_service
from creditfile.core.services.backup import DATABASE_MEMBERS, MANIFEST_NAME, verify_backup
from creditfile.customers.models import Attachment
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.testing import make_customer

SHANGHAI = ZoneInfo("Asia/Shanghai")
OTHER_VENDOR = {"sqlite": "postgresql", "postgresql": "sqlite"}


def only_archive(folder: Path) -> Path:
    archives = sorted(folder.glob("creditfile-backup-*.tar"))
    assert len(archives) == 1, archives
    return archives[0]


def members_of(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def rewrite(src: Path, dst: Path, *, drop=(), replace=None, manifest=None) -> Path:
    """A copy of an archive with members dropped or replaced, as damage or a forger would."""
    replace = replace or {}
    with tarfile.open(src) as old, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as new:
        for member in old.getmembers():
            if member.name in drop:
                continue
            data = old.extractfile(member).read()
            if member.name == MANIFEST_NAME and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            data = replace.get(member.name, data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
    return dst


def flip_byte(path: Path, name: str) -> None:
    """Bit rot inside one member, leaving the tar structure intact."""
    with tarfile.open(path) as archive:
        offset = archive.getmember(name).offset_data
    with path.open("r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.fixture
def filed(org):
    """A customer with one uploaded document on disk."""
    customer = make_customer("华信科技有限公司", owner=org.alice)
    attachment = add_attachment(
        customer,
        SimpleUploadedFile("申请表.pdf", b"%PDF-1.4 credit application"),
        category="application",
        title="信用申请表",
        document_date=date(2025, 1, 6),
        user=org.alice,
    )
    return customer, attachment


@pytest.fixture
def archive(filed, tmp_path) -> Path:
    call_command("backup", to=tmp_path / "backups", stdout=io.StringIO())
    return only_archive(tmp_path / "backups")


def file_member(attachment) -> str:
    return "files/" + attachment.file.name


# ---------------------------------------------------------------------------- backup


def _latest_migrations() -> dict[str, str]:
    """The newest migration of each app on disk: what a fully migrated database records."""
    from django.db.migrations.loader import MigrationLoader

    return {app: name for app, name in MigrationLoader(None).graph.leaf_nodes()}


def test_it_writes_one_archive_with_database_files_and_a_manifest_of_hashes(filed, tmp_path):
    _customer, attachment = filed
    out = io.StringIO()
    with time_machine.travel(datetime(2025, 3, 1, 2, 0, 5, tzinfo=SHANGHAI), tick=False):
        call_command("backup", to=tmp_path / "backups", stdout=out)

    path = tmp_path / "backups" / "creditfile-backup-20250301-020005.tar"
    assert os.listdir(tmp_path / "backups") == [path.name]  # no temporary left beside it
    assert str(path) in out.getvalue()
    members = members_of(path)
    db_member = DATABASE_MEMBERS[connection.vendor]
    assert set(members) == {MANIFEST_NAME, db_member, file_member(attachment)}
    assert members[file_member(attachment)] == b"%PDF-1.4 credit application"

    manifest = json.loads(members[MANIFEST_NAME])
    assert manifest["format_version"] == 1
    assert manifest["created_at"] == "2025-03-01T02:00:05+08:00"
    assert manifest["app_version"] == creditfile.__version__
    assert manifest["database_vendor"] == connection.vendor
    latest = _latest_migrations()
    assert manifest["migrations"]["customers"] == latest["customers"]
    assert manifest["migrations"]["core"] == latest["core"]
    assert {"customers.Customer", "customers.Attachment", "core.User"} <= set(manifest["counts"])
    assert manifest["file_count"] == 1
    assert set(manifest["members"]) == {db_member, file_member(attachment)}
    for name, entry in manifest["members"].items():
        assert entry["sha256"] == hashlib.sha256(members[name]).hexdigest()
        assert entry["size"] == len(members[name])
    assert verify_backup(path).ok


def test_it_counts_the_rows_that_are_in_the_dump(filed, tmp_path):
    """The counts come from the dump itself, not from a second look at the live database.

    The dump reads the database through its own session (pg_dump, or a second SQLite
    connection to the file), so it cannot see this test's uncommitted rows: a count taken
    from the live connection would say 1.
    """
    call_command("backup", to=tmp_path / "backups", stdout=io.StringIO())
    manifest = json.loads(members_of(only_archive(tmp_path / "backups"))[MANIFEST_NAME])
    assert manifest["counts"]["customers.Customer"] == 0
    assert manifest["counts"]["customers.Attachment"] == 0


def test_it_leaves_no_archive_when_the_backup_fails_half_way(filed, tmp_path, monkeypatch):
    def broken_disk(root):
        raise OSError("No space left on device")

    monkeypatch.setattr(backup_service, "_media_files", broken_disk)
    with pytest.raises(CommandError, match="No space left"):
        call_command("backup", to=tmp_path / "backups", stdout=io.StringIO())
    assert os.listdir(tmp_path / "backups") == []


def test_it_needs_pg_dump_only_for_postgresql(filed, tmp_path, monkeypatch):
    monkeypatch.setattr(backup_service.shutil, "which", lambda name: None)
    if connection.vendor == "postgresql":
        with pytest.raises(CommandError, match="pg_dump.*postgresql-client"):
            call_command("backup", to=tmp_path / "backups", stdout=io.StringIO())
        assert os.listdir(tmp_path / "backups") == []
    else:
        call_command("backup", to=tmp_path / "backups", stdout=io.StringIO())
        assert verify_backup(only_archive(tmp_path / "backups")).ok


def test_it_keeps_only_the_newest_archives_and_nothing_else_is_touched(filed, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    (folder / "creditfile-backup-manual-copy.tar").write_bytes(b"not ours to delete")
    for day in (1, 2, 3):
        with time_machine.travel(datetime(2025, 3, day, 2, 0, tzinfo=SHANGHAI), tick=False):
            out = io.StringIO()
            call_command("backup", to=folder, keep=2, stdout=out)
    assert "creditfile-backup-20250301-020000.tar" in out.getvalue()  # reported as removed
    assert sorted(os.listdir(folder)) == [
        "creditfile-backup-20250302-020000.tar",
        "creditfile-backup-20250303-020000.tar",
        "creditfile-backup-manual-copy.tar",
        "notes.txt",
    ]


def test_it_never_overwrites_an_archive_made_in_the_same_second(filed, tmp_path):
    with time_machine.travel(datetime(2025, 3, 1, 2, 0, tzinfo=SHANGHAI), tick=False):
        call_command("backup", to=tmp_path, stdout=io.StringIO())
        call_command("backup", to=tmp_path, stdout=io.StringIO())
    names = sorted(p.name for p in tmp_path.glob("creditfile-backup-*.tar"))
    assert names == [
        "creditfile-backup-20250301-020000-2.tar",
        "creditfile-backup-20250301-020000.tar",
    ]


# ---------------------------------------------------------------------------- verify


def test_it_verifies_a_good_archive(archive):
    out = io.StringIO()
    call_command("backup", verify=archive, stdout=out)
    assert "Backup OK" in out.getvalue()


def test_it_names_a_member_whose_bytes_changed(archive, filed):
    _customer, attachment = filed
    flip_byte(archive, file_member(attachment))
    problems = verify_backup(archive).problems
    assert len(problems) == 1
    assert file_member(attachment) in problems[0] and "SHA-256" in problems[0]
    err = io.StringIO()
    with pytest.raises(CommandError, match="FAILED"):
        call_command("backup", verify=archive, stdout=io.StringIO(), stderr=err)
    assert file_member(attachment) in err.getvalue()


def test_it_names_a_missing_member_and_one_the_manifest_does_not_list(archive, filed, tmp_path):
    _customer, attachment = filed
    missing = rewrite(archive, tmp_path / "missing.tar", drop={file_member(attachment)})
    assert verify_backup(missing).problems == [f"缺少成员：{file_member(attachment)}"]

    def forget_file(manifest):
        del manifest["members"][file_member(attachment)]
        return manifest

    unlisted = rewrite(archive, tmp_path / "unlisted.tar", manifest=forget_file)
    assert verify_backup(unlisted).problems == [f"清单中未列出的成员：{file_member(attachment)}"]


def test_it_reports_a_database_dump_that_does_not_open(archive, tmp_path):
    """Hashes only prove the copy is faithful; the dump itself must also be readable."""
    db_member = DATABASE_MEMBERS[connection.vendor]
    garbage = b"this is not a database dump " * 200

    def rehash(manifest):
        manifest["members"][db_member] = {
            "sha256": hashlib.sha256(garbage).hexdigest(),
            "size": len(garbage),
        }
        return manifest

    broken = rewrite(
        archive, tmp_path / "broken.tar", replace={db_member: garbage}, manifest=rehash
    )
    problems = verify_backup(broken).problems
    assert len(problems) == 1
    assert f"数据库文件 {db_member} 无法打开" in problems[0]
    if connection.vendor == "postgresql":
        assert "pg_restore" in problems[0]
    else:
        assert "not a database" in problems[0]


def test_it_rejects_a_file_that_is_no_backup(tmp_path):
    path = tmp_path / "creditfile-backup-20250301-020000.tar"
    path.write_bytes(b"garbage")
    assert "无法读取备份文件" in verify_backup(path).problems[0]


# ---------------------------------------------------------------------------- restore refusals


def assert_nothing_changed(customer, attachment):
    customer.refresh_from_db()
    assert customer.name == "华信科技有限公司"
    assert Attachment.objects.get(pk=attachment.pk).file.read() == b"%PDF-1.4 credit application"


def test_it_refuses_to_restore_a_corrupt_archive_and_changes_nothing(archive, filed):
    customer, attachment = filed
    flip_byte(archive, file_member(attachment))
    with pytest.raises(CommandError, match=f"SHA-256.*{file_member(attachment)}"):
        call_command("restore", archive, yes=True, stdout=io.StringIO())
    assert_nothing_changed(customer, attachment)


def test_it_refuses_an_archive_from_the_other_database_vendor(archive, filed, tmp_path):
    customer, attachment = filed
    other = OTHER_VENDOR[connection.vendor]
    foreign = rewrite(
        archive, tmp_path / "foreign.tar", manifest=lambda m: {**m, "database_vendor": other}
    )
    with pytest.raises(CommandError) as refused:
        call_command("restore", foreign, yes=True, stdout=io.StringIO())
    assert f"备份来自 {other}，本系统配置的是 {connection.vendor}" in str(refused.value)
    assert_nothing_changed(customer, attachment)


def test_it_asks_before_replacing_and_a_no_changes_nothing(archive, filed, monkeypatch):
    customer, attachment = filed
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "no")
    out = io.StringIO()
    with pytest.raises(CommandError, match="Cancelled"):
        call_command("restore", archive, stdout=out)
    assert asked and "yes" in asked[0]
    assert "customers.Customer" in out.getvalue()  # the operator saw what would come back
    assert_nothing_changed(customer, attachment)


# ---------------------------------------------------------------------------- round trip


@contextmanager
def scratch_installation(tmp_path):
    """Environment for a separate `creditfile` process with its own data folder and database.

    A separate process is the honest test: the test database is in memory (SQLite) or held
    in a transaction (PostgreSQL), neither of which a real restore would ever meet.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFILE_")}
    env["CREDITFILE_DATA_DIR"] = str(tmp_path / "data")
    env["CREDITFILE_TESTING"] = "1"
    if connection.vendor == "sqlite":
        yield env
        return
    import psycopg

    params = connection.settings_dict
    name = f"cf_backup_test_{secrets.token_hex(4)}"
    admin = psycopg.connect(
        host=params["HOST"] or None,
        port=params["PORT"] or None,
        user=params["USER"] or None,
        password=params["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        credentials = quote(params["USER"] or "")
        if params["PASSWORD"]:
            credentials += ":" + quote(params["PASSWORD"])
        host = f"{params['HOST'] or 'localhost'}:{params['PORT'] or 5432}"
        env["CREDITFILE_DATABASE_URL"] = f"postgres://{credentials}@{host}/{name}"
        yield env
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def cli(env, *args, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "creditfile", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


SEED = """
import datetime
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.migrations.recorder import MigrationRecorder
from creditfile.core.testing import build_org
from creditfile.customers.services.attachments import add_attachment
from creditfile.customers.testing import make_customer
org = build_org()
first = make_customer("甲公司", owner=org.alice)
make_customer("乙公司", owner=org.bob)
add_attachment(first, SimpleUploadedFile("a.pdf", b"%PDF-1.4 original"), category="application",
               title="申请表", document_date=datetime.date(2025, 1, 6), user=org.alice)
# As if the backup predates the later migrations: restore must bring it up to date.
from django.core.management import call_command
call_command("migrate", "core", "0001_initial", verbosity=0)  # and everything that needs it
call_command("migrate", "customers", "0002_search_index", verbosity=0)
assert not MigrationRecorder.Migration.objects.filter(name="0003_reference_data").exists()
"""

MUTATE = """
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)  # the installation is upgraded after the backup
from creditfile.core.models import User
from creditfile.customers.models import Attachment, Customer
from creditfile.customers.testing import make_customer, valid_uscc
attachment = Attachment.objects.get()
attachment.file.storage.delete(attachment.file.name)
Customer.objects.get(name="甲公司").delete()
Customer.objects.filter(name="乙公司").update(name="乙公司（已改名）")
make_customer("丙公司", owner=User.objects.get(username="walt"), uscc=valid_uscc(990))
# What a newer version's migration would have added; the restored schema must not keep it.
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE zz_newer_version (id integer)")
"""

STATE = """
import json
from django.db import connection
from creditfile.customers.models import Attachment, Customer
files = {
    a.title: a.file.read().decode() if a.file.storage.exists(a.file.name) else None
    for a in Attachment.objects.all()
}
print(json.dumps({"customers": sorted(Customer.objects.values_list("name", flat=True)),
                  "files": files,
                  "stray_table": "zz_newer_version" in connection.introspection.table_names()},
                 ensure_ascii=False))
"""


def shell(env, script: str) -> dict:
    """Run a script in the installation and return the state it prints at the end."""
    return json.loads(ok(cli(env, "shell", "-c", script + STATE)).strip().splitlines()[-1])


def test_it_restores_database_and_files_after_they_were_lost(tmp_path):
    with scratch_installation(tmp_path) as env:
        ok(cli(env, "migrate", "-v", "0"))
        original = shell(env, SEED)
        assert original == {
            "customers": ["乙公司", "甲公司"],
            "files": {"申请表": "%PDF-1.4 original"},
            "stray_table": False,
        }

        printed = ok(cli(env, "backup", "--to", str(tmp_path / "archives")))
        archive = only_archive(tmp_path / "archives")
        assert str(archive) in printed and "customers.Customer: 2" in printed

        mutated = shell(env, MUTATE)
        assert mutated == {
            "customers": ["丙公司", "乙公司（已改名）"],
            "files": {},
            "stray_table": True,
        }

        restored = ok(cli(env, "restore", str(archive), "--yes"))
        assert shell(env, "") == original
        assert "customers.0003_reference_data" in restored  # brought up to the current schema
        assert "Restore complete, counts checked" in restored

        # The state just replaced was saved first, so the restore itself can be undone.
        safety = only_archive(tmp_path / "data" / "backups")
        assert str(safety) in restored
        assert json.loads(members_of(safety)[MANIFEST_NAME])["counts"]["customers.Customer"] == 2
        leftovers = [p.name for p in (tmp_path / "data").iterdir() if p.name.startswith(".")]
        assert leftovers == []
        assert not (tmp_path / "data" / "creditfile.sqlite3.restoring").exists()
