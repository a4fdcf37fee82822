"""On SQLite a transaction queues on a kernel lock beside the database before BEGIN
(creditfile/core/db/sqlite3): it starts as soon as the writer ahead of it ends, instead
of sleeping in SQLite's busy handler. PostgreSQL has row locks and no such file."""

import os
import sqlite3
import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from creditfile.core.db.sqlite3 import base as backend
from creditfile.core.models import Department

fcntl = pytest.importorskip("fcntl")  # Windows has none: transactions begin as Django's

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the lock is SQLite's backend's"),
]


@pytest.fixture
def outside():
    """The lock file opened as another writer would open it."""
    connection.ensure_connection()
    descriptor = os.open(connection.writer_lock_path(), os.O_RDWR | os.O_CREAT)
    yield descriptor
    os.close(descriptor)


def _free(descriptor) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(descriptor, fcntl.LOCK_UN)
    return True


def test_a_transaction_holds_the_lock_until_it_commits_or_rolls_back(outside):
    with transaction.atomic():
        Department.objects.create(name="锁一", code="锁一")
        assert not _free(outside)
    assert _free(outside)

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            Department.objects.create(name="锁二", code="锁二")
            assert not _free(outside)
            raise RuntimeError("rolled back")
    assert _free(outside)
    assert list(
        Department.objects.filter(name__startswith="锁").values_list("name", flat=True)
    ) == ["锁一"]


def test_a_writer_waits_on_the_lock_and_goes_on_when_it_is_let_go(outside):
    fcntl.flock(outside, fcntl.LOCK_EX)  # another writer is in its transaction
    began = threading.Event()

    def write():
        try:
            with transaction.atomic():
                began.set()
                Department.objects.create(name="排队", code="排队")
        finally:
            connections.close_all()

    writer = threading.Thread(target=write)
    writer.start()
    # SQLite's own write lock is free: only the kernel lock keeps the writer waiting.
    assert not began.wait(0.5)
    fcntl.flock(outside, fcntl.LOCK_UN)
    writer.join(timeout=30)

    assert began.is_set()
    assert Department.objects.filter(name="排队").exists()


def test_after_the_busy_timeout_it_begins_without_the_lock(outside):
    fcntl.flock(outside, fcntl.LOCK_EX)
    connection._busy_timeout = 0.05
    try:
        with transaction.atomic():
            Department.objects.create(name="超时", code="超时")
            assert not connection._holds_writer_lock
    finally:
        del connection._busy_timeout
        fcntl.flock(outside, fcntl.LOCK_UN)
    assert Department.objects.filter(name="超时").exists()


def test_a_begin_that_fails_lets_go_of_the_lock(outside):
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # SQLite's write lock, taken without the kernel lock
    connection.connection.execute("PRAGMA busy_timeout = 50")
    try:
        with pytest.raises(OperationalError):
            with transaction.atomic():
                pass
        assert _free(outside)
    finally:
        other.execute("ROLLBACK")
        other.close()
        connection.close()  # the next connection has the settings' busy timeout again


def test_without_a_lock_file_transactions_begin_as_before(monkeypatch, caplog):
    connection.close()
    monkeypatch.setattr(
        backend.DatabaseWrapper, "writer_lock_path", lambda self: "/nonexistent/dir/x.lock"
    )

    with transaction.atomic():
        Department.objects.create(name="无锁", code="无锁")

    assert Department.objects.filter(name="无锁").exists()
    assert "no lock at /nonexistent/dir/x.lock" in caplog.text
    connection.close()


def test_a_forked_child_does_not_keep_its_parents_lock_file():
    with transaction.atomic():
        Department.objects.create(name="父", code="父")
    inherited = connection._writer_lock_fd
    assert inherited >= 0

    child = os.fork()
    if child == 0:  # the child: its wrapper must open the file anew
        os._exit(0 if connection._writer_lock_fd is None else 1)
    _pid, status = os.waitpid(child, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert connection._writer_lock_fd == inherited  # the parent's is untouched


def test_closing_the_connection_lets_go_of_the_lock(outside):
    transaction.set_autocommit(False)
    connection._start_transaction_under_autocommit()
    assert not _free(outside)

    connection.close()

    assert _free(outside)
