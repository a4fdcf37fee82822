"""Django's SQLite backend, with writers queueing on a kernel lock instead of sleeping.

Every transaction here begins IMMEDIATE, taking SQLite's single write lock at BEGIN. A
second writer that finds it taken sleeps in SQLite's busy handler for 1, 2, 5, 10, 15,
20, 25 … ms between tries, however soon the lock is free again: with two server
processes checking orders (each transaction about a millisecond) the waiting one slept
for most of its wait, a core stood idle and the slowest checks took 60 ms.

Before BEGIN, a transaction here takes an exclusive `flock` on a file beside the
database (`<database>-writer.lock`), tried again every 0.1–1 ms, and lets it go when the
transaction ends. Writers in other processes and threads of this installation so queue
behind each other and start within a millisecond of the lock coming free. After the
busy timeout it goes on to BEGIN without it, where SQLite's own busy handling decides,
as before. Writes outside a transaction (autocommit) still rely on SQLite's handler.
"""

import fcntl
import os
import time

from django.db.backends.sqlite3 import base

# Poll the kernel lock this often at first, then back off to the longest.
FIRST_WAIT = 0.0001
LONGEST_WAIT = 0.001


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer_lock_fd = None
        self._holds_writer_lock = False

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
            if self._writer_lock_fd is not None:
                os.close(self._writer_lock_fd)
                self._writer_lock_fd = None

    def writer_lock_path(self) -> str | None:
        """The lock file beside the database file; None for an in-memory database."""
        if self.is_in_memory_db():
            return None
        return f"{self.settings_dict['NAME']}-writer.lock"

    def _take_writer_lock(self) -> None:
        if self._holds_writer_lock:
            return
        if self._writer_lock_fd is None:
            path = self.writer_lock_path()
            if path is None:
                return
            self._writer_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self._busy_timeout_seconds()
        wait = FIRST_WAIT
        while True:
            try:
                fcntl.flock(self._writer_lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return  # SQLite's own busy handler takes over at BEGIN
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_WAIT)
            else:
                self._holds_writer_lock = True
                return

    def _release_writer_lock(self) -> None:
        if self._holds_writer_lock:
            self._holds_writer_lock = False
            fcntl.flock(self._writer_lock_fd, fcntl.LOCK_UN)

    def _busy_timeout_seconds(self) -> float:
        cached = getattr(self, "_busy_timeout", None)
        if cached is None:
            row = self.connection.execute("PRAGMA busy_timeout").fetchone()
            cached = self._busy_timeout = row[0] / 1000
        return cached
