"""On SQLite a transaction queues on a kernel lock beside the database before BEGIN
(creditfile/core/db/sqlite3): it starts as soon as the writer ahead of it ends, instead
of sleeping in SQLite's busy handler. PostgreSQL has row locks and no such file."""

import fcntl
import os
import threading

import pytest
from django.db import connection, connections, transaction

from creditfile.core.models import Department

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
        # Ending that transaction did not let go of the lock it never had.
        assert not _free_from_another(outside)
    finally:
        del connection._busy_timeout
        fcntl.flock(outside, fcntl.LOCK_UN)
    assert Department.objects.filter(name="超时").exists()


def _free_from_another(descriptor) -> bool:
    other = os.open(connection.writer_lock_path(), os.O_RDWR)
    try:
        return _free(other)
    finally:
        os.close(other)


def test_closing_the_connection_lets_go_of_the_lock(outside):
    transaction.set_autocommit(False)
    connection._start_transaction_under_autocommit()
    assert not _free(outside)

    connection.close()

    assert _free(outside)
