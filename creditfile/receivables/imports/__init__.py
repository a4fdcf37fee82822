"""Importing invoices, payments, credit notes and orders from ERP exports (issue 4).

reading.py opens a CSV or XLSX file and streams its rows; fields.py knows the ledger
fields and the header names ERPs use for them (the mapping screen's suggestions);
validating.py turns rows into records or problems; writing.py posts records through the
ledger's own functions; running.py runs a job in two passes with progress and is the
background worker's loop.
"""

from creditfile.receivables.imports.fields import fields_for, mapping_problems, suggest_mapping
from creditfile.receivables.imports.reading import FileProblem, read_headers
from creditfile.receivables.imports.running import (
    IMPORT_PERMISSION,
    can_import,
    drain,
    live_view,
    run_job,
    start_worker_thread,
    submit,
    work,
)

__all__ = [
    "IMPORT_PERMISSION",
    "FileProblem",
    "can_import",
    "drain",
    "fields_for",
    "live_view",
    "mapping_problems",
    "read_headers",
    "run_job",
    "start_worker_thread",
    "submit",
    "suggest_mapping",
    "work",
]
