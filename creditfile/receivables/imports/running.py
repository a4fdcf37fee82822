"""Running an import job: a checking pass, then a writing pass, with progress on the job row.

The file is read twice, a batch at a time, and never held in memory. The checking pass
reports every problem the file shows by itself and saves it at once, with progress, so the
bar moves. The writing pass posts the good rows inside ONE transaction; if any row was bad
(in either pass) and the user did not choose to skip bad rows, that transaction is rolled
back at the end, so a refused file changes nothing and its report still names every bad
row, including those only the ledger can refuse.

The job row is the queue: `drain` takes queued jobs one at a time (claiming a job is a
single UPDATE, so two workers never run the same one); `creditfile up` runs it in a
thread, production runs `creditfile import-worker` (docs/operations.md).
"""

import logging
import threading
from itertools import islice
from pathlib import PurePath

from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from creditfile.core.history import acting_as
from creditfile.receivables.imports import staged
from creditfile.receivables.imports.reading import FileProblem, open_table
from creditfile.receivables.imports.staged import StagedInvoices
from creditfile.receivables.imports.validating import Problem, RowChecker
from creditfile.receivables.imports.writing import LedgerWriter
from creditfile.receivables.models import ImportJob, ImportProblem, JobStatus
from creditfile.receivables.models.imports import RUNNING

logger = logging.getLogger(__name__)

BATCH_ROWS = 2000  # rows per batch: per-batch queries stay few, memory stays flat
POLL_SECONDS = 1.0

# Progress of the jobs this process is writing, for the status view: the writing pass's
# own updates stay inside its transaction until it commits (docs/decisions.md).
LIVE: dict[int, dict] = {}


def batched(rows, size: int):
    rows = iter(rows)
    while batch := list(islice(rows, size)):
        yield batch


class _Refused(Exception):
    """The file has bad rows and is imported all or nothing: roll the writing pass back."""


IMPORT_PERMISSION = "receivables.import_ledger"


def can_import(user) -> bool:
    return user.has_perm(IMPORT_PERMISSION)


def submit(mapping, upload, user, *, skip_bad_rows: bool = False) -> ImportJob:
    """Queue an uploaded file (a Django File) for import with `mapping`; the worker runs it
    as `user`, whose customers are the ones rows can match."""
    if not can_import(user):
        raise PermissionDenied
    job = ImportJob(
        mapping=mapping,
        filename=PurePath(upload.name or "import").name[:255],
        skip_bad_rows=skip_bad_rows,
        created_by=user,
    )
    job.file.save(job.filename, upload, save=False)
    job.save()
    return job


def drain() -> int:
    """Run queued jobs, oldest first, until none is left; how many ran."""
    ran = 0
    while True:
        pk = (
            ImportJob.objects.filter(status=JobStatus.QUEUED)
            .order_by("id")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            return ran
        if run_job(pk):
            ran += 1


def work(stop: threading.Event | None = None) -> None:
    """The worker loop of `creditfile import-worker` and of the thread `creditfile up` starts."""
    stop = stop or threading.Event()
    fail_interrupted()
    while not stop.is_set():
        try:
            if not drain():
                stop.wait(POLL_SECONDS)
        except Exception:  # keep the worker alive; the job itself is marked failed
            logger.exception("import worker")
            stop.wait(POLL_SECONDS)
        finally:
            connections.close_all()


def start_worker_thread() -> threading.Thread:
    thread = threading.Thread(target=work, name="creditfile-import-worker", daemon=True)
    thread.start()
    return thread


def fail_interrupted() -> int:
    """Jobs left half-way by a stopped worker: nothing of their writing pass was kept (it
    was one transaction), so they are marked failed and can be submitted again."""
    return ImportJob.objects.filter(status__in=RUNNING).update(
        status=JobStatus.FAILED,
        message=_("导入在进行中被中断（服务或导入进程已停止），未写入任何数据，请重新提交。"),
        finished_at=timezone.now(),
    )


def run_job(pk: int) -> bool:
    """Run one queued job; False if another worker took it first."""
    claimed = ImportJob.objects.filter(pk=pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CHECKING, started_at=timezone.now()
    )
    if not claimed:
        return False
    job = ImportJob.objects.select_related("mapping__company", "created_by").get(pk=pk)
    try:
        _Run(job).run()
    except Exception as error:
        logger.exception("import job %s", pk)
        _finish(job, JobStatus.FAILED, _("导入失败：%(error)s") % {"error": error})
    finally:
        if job.file:
            job.file.delete(save=False)  # the ERP's data stays in the ledger, not in a copy
            ImportJob.objects.filter(pk=pk).update(file="")
    return True


class _Run:
    def __init__(self, job: ImportJob):
        self.job = job
        self.mapping = job.mapping
        self.bad_rows: set[int] = set()

    def run(self) -> None:
        job = self.job
        try:
            with job.file.open("rb") as binary:
                if staged.applies(job):
                    self._staged(binary)
                    return
                if not self._check(binary):
                    return
                self._write(binary)
        except FileProblem as problem:
            self._save_problems([Problem(None, "", str(problem))])
            _finish(job, JobStatus.REFUSED, str(problem))

    def _staged(self, binary) -> None:
        """An invoice CSV: one pass into a staging table, checked and merged in SQL
        (staged.py); the same report, all-or-nothing and progress as the two passes."""
        job = self.job
        with open_table(binary, job.filename, strip=False) as table:
            checker = RowChecker(self.mapping, job.created_by, table.headers)
            missing = checker.missing_columns()
            if missing:
                self._save_problems(missing)
                _finish(job, JobStatus.REFUSED, _("文件的列与映射不符。"))
                return
            job.rows_total = table.estimated_rows
            self._progress(rows_total=job.rows_total)
            work = StagedInvoices(self.mapping, job.created_by, checker)
            try:
                work.load(
                    table.rows,
                    lambda rows: self._progress(
                        rows_checked=rows, rows_total=max(job.rows_total, rows)
                    ),
                )
            except BaseException:
                work.drop_quietly()
                raise
        try:
            self._staged_rest(work, checker)
        finally:
            work.drop_quietly()

    def _staged_rest(self, work: StagedInvoices, checker: RowChecker) -> None:
        job = self.job
        for problems in work.check():
            self._save_problems(problems)
        job.rows_total = job.rows_checked = work.rows
        self._progress(rows_total=work.rows, rows_checked=work.rows, status=JobStatus.WRITING)
        header = LedgerWriter(self.mapping, checker.header_of)._header
        refusing = bool(self.bad_rows) and not job.skip_bad_rows
        late: list[Problem] = []
        refused = False
        with acting_as(user=job.created_by, label=f"import:{job.filename}"[:100]):
            try:
                with transaction.atomic():
                    late = work.write(
                        self.mapping.company,
                        connection.ops.adapt_datetimefield_value(timezone.now()),
                        refusing=refusing,
                        header=header,
                        progress=lambda rows: self._progress(
                            rows_written=rows, inside_transaction=True
                        ),
                    )
                    if (refusing or late) and not job.skip_bad_rows:
                        raise _Refused
            except _Refused:
                refused = True
        self._save_problems(late)
        if refused:
            _finish(job, JobStatus.REFUSED, _("文件中有错误行，未导入任何数据。"))
            return
        job.created, job.updated, job.unchanged = (
            work.counts["created"],
            work.counts["updated"],
            work.counts["unchanged"],
        )
        skipped = (
            _("跳过了 %(n)d 个错误行，其余行已导入。") % {"n": len(self.bad_rows)}
            if self.bad_rows
            else ""
        )
        _finish(job, JobStatus.DONE, skipped)

    def _check(self, binary) -> bool:
        job = self.job
        with open_table(binary, job.filename) as table:
            checker = RowChecker(self.mapping, job.created_by, table.headers)
            missing = checker.missing_columns()
            if missing:
                self._save_problems(missing)
                _finish(job, JobStatus.REFUSED, _("文件的列与映射不符。"))
                return False
            job.rows_total = table.estimated_rows
            self._progress(rows_total=job.rows_total)
            checked = 0
            for batch in batched(table.rows, BATCH_ROWS):
                _records, problems = checker.check(batch)
                self._save_problems(problems)
                checked += len(batch)
                self._progress(rows_checked=checked, rows_total=max(job.rows_total, checked))
        job.rows_total = job.rows_checked = checked
        self._progress(rows_total=checked, rows_checked=checked, status=JobStatus.WRITING)
        return True

    def _write(self, binary) -> None:
        job = self.job
        refused = False
        with acting_as(user=job.created_by, label=f"import:{job.filename}"[:100]):
            try:
                with transaction.atomic():
                    writer = self._write_rows(binary)
                    if self.bad_rows and not job.skip_bad_rows:
                        raise _Refused
            except _Refused:
                refused = True
        self._save_problems(self.late_problems)
        if refused:
            _finish(job, JobStatus.REFUSED, _("文件中有错误行，未导入任何数据。"))
            return
        job.created, job.updated, job.unchanged = (
            writer.counts.created,
            writer.counts.updated,
            writer.counts.unchanged,
        )
        skipped = (
            _("跳过了 %(n)d 个错误行，其余行已导入。") % {"n": len(self.bad_rows)}
            if self.bad_rows
            else ""
        )
        _finish(job, JobStatus.DONE, skipped)

    def _write_rows(self, binary) -> LedgerWriter:
        job = self.job
        self.late_problems: list[Problem] = []
        with open_table(binary, job.filename) as table:
            checker = RowChecker(self.mapping, job.created_by, table.headers)
            writer = LedgerWriter(self.mapping, checker.header_of)
            written = 0
            for batch in batched(table.rows, BATCH_ROWS):
                records, _problems = checker.check(batch)
                problems = writer.write([r for r in records if r.row not in self.bad_rows])
                self.late_problems.extend(problems)
                self.bad_rows.update(problem.row for problem in problems)
                written += len(batch)
                self._progress(rows_written=written, inside_transaction=True)
        return writer

    def _save_problems(self, problems: list[Problem]) -> None:
        if not problems:
            return
        ImportProblem.objects.bulk_create(
            ImportProblem(job=self.job, row=p.row, column=p.column[:200], message=p.message)
            for p in problems
        )
        self.bad_rows.update(problem.row for problem in problems if problem.row is not None)
        self.job.bad_rows = len(self.bad_rows)
        self._progress(bad_rows=self.job.bad_rows)

    def _progress(self, inside_transaction: bool = False, **fields) -> None:
        for name, value in fields.items():
            setattr(self.job, name, value)
        live = LIVE.setdefault(self.job.pk, {})
        live.update(fields)
        if not inside_transaction:
            ImportJob.objects.filter(pk=self.job.pk).update(updated_at=timezone.now(), **fields)
        elif connection.vendor == "postgresql":
            _update_from_another_connection(self.job.pk, fields)


def _update_from_another_connection(pk: int, fields: dict) -> None:
    """Progress other processes can see while the writing transaction is open. PostgreSQL
    only: SQLite has one writer at a time, and that is the import."""

    def update():
        try:
            ImportJob.objects.filter(pk=pk).update(updated_at=timezone.now(), **fields)
        except Exception:  # progress is a courtesy; the import goes on
            logger.warning("import progress not saved", exc_info=True)
        finally:
            connections.close_all()

    thread = threading.Thread(target=update, daemon=True)
    thread.start()
    thread.join(timeout=5)


def _finish(job: ImportJob, status: str, message: str) -> None:
    job.status, job.message, job.finished_at = status, message, timezone.now()
    if status != JobStatus.DONE:
        job.created = job.updated = job.unchanged = 0
    job.bad_rows = job.problems.exclude(row=None).values("row").distinct().count()
    job.save()
    LIVE.pop(job.pk, None)


def live_view(job: ImportJob) -> ImportJob:
    """The job with the progress this process knows and the database does not show yet."""
    live = LIVE.get(job.pk)
    if live and job.status in RUNNING:
        for name, value in live.items():
            setattr(job, name, value)
    return job
