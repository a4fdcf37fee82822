"""Django's SQLite backend, with writers queueing on a kernel lock instead of sleeping.

Every transaction here begins IMMEDIATE, taking SQLite's single write lock at BEGIN. A
second writer that finds it taken sleeps in SQLite's busy handler for 1, 2, 5, 10, 15,
20, 25 … ms between tries, however soon the lock is free again: with two server
processes checking orders (each transaction about a millisecond) the waiting one slept
for most of its wait, a core stood idle and the slowest checks took 60 ms.

Before BEGIN, a transaction here takes an exclusive `flock` on a file beside the
database (`<database>-writer.lock`), tried every 0.2–0.5 ms, and lets it go when the
transaction ends. Writers in other processes and threads of this installation so queue
behind each other and start within a millisecond of the lock coming free. After the
busy timeout it goes on to BEGIN without it, where SQLite's own busy handling decides,
as before. Where the lock cannot be had at all (Windows has no flock; a lock file that
cannot be opened) transactions simply begin as Django's backend begins them. Writes
outside a transaction (autocommit) rely on SQLite's handler as before.
"""

import logging
import os
import time
import weakref

from django.db.backends.sqlite3 import base

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

logger = logging.getLogger(__name__)

# Poll the kernel lock this often at first, then at most this long apart. Every waiter
# polls alike, so a writer that came later has no edge over one waiting longer.
FIRST_WAIT = 0.0002
LONGEST_WAIT = 0.0005

# Every wrapper in this process, so that a forked child (gunicorn workers forked after
# the master migrated) does not share its parent's lock: flock belongs to the open file,
# and a child holding the parent's descriptor would never wait for its siblings.
_wrappers: "weakref.WeakSet" = weakref.WeakSet()


def _forget_inherited_locks() -> None:
    for wrapper in list(_wrappers):
        wrapper._drop_writer_lock_file()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_locks)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer_lock_fd = None  # None: not opened yet; -1: no lock to be had
        self._holds_writer_lock = False
        _wrappers.add(self)

    def _start_transaction_under_autocommit(self):
        self._take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_writer_lock()
            self._drop_writer_lock_file()

    def writer_lock_path(self) -> str | None:
        """The lock file beside the database file; None for an in-memory database."""
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}-writer.lock"

    def _take_writer_lock(self) -> None:
        if self._holds_writer_lock:
            return
        descriptor = self._writer_lock_file()
        if descriptor < 0:
            return
        deadline = time.monotonic() + self._busy_timeout_seconds()
        wait = FIRST_WAIT
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return  # SQLite's own busy handler takes over at BEGIN
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
            except OSError as error:  # a file system without flock
                self._give_up_writer_lock(error)
                return
            else:
                self._holds_writer_lock = True
                return

    def _writer_lock_file(self) -> int:
        if self._writer_lock_fd is None:
            path = self.writer_lock_path()
            if fcntl is None or path is None:
                self._writer_lock_fd = -1
            else:
                try:
                    # flock needs no write access: whoever created the file first (root
                    # running a command, say), every user who can read it can lock it.
                    self._writer_lock_fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
                except OSError as error:
                    self._give_up_writer_lock(error)
        return self._writer_lock_fd

    def _give_up_writer_lock(self, error: OSError) -> None:
        logger.warning(
            "SQLite writers wait in SQLite's busy handler: no lock at %s (%s)",
            self.writer_lock_path(),
            error,
        )
        self._drop_writer_lock_file()
        self._writer_lock_fd = -1

    def _release_writer_lock(self) -> None:
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

    def _drop_writer_lock_file(self) -> None:
        if self._writer_lock_fd is not None and self._writer_lock_fd >= 0:
            os.close(self._writer_lock_fd)
        self._writer_lock_fd = None
        self._holds_writer_lock = False

    def _busy_timeout_seconds(self) -> float:
        cached = getattr(self, "_busy_timeout", None)
        if cached is None:
            row = self.connection.execute("PRAGMA busy_timeout").fetchone()
            cached = self._busy_timeout = row[0] / 1000
        return cached
