"""The `creditfile` command: one entry point for everything an operator does.

creditfile up [--port N] [--data-dir DIR]   first run and everyday single-machine use
creditfile serve [--port N] [--threads N]   production WSGI server (see docs/operations.md)
creditfile demo --customers N --seed S      deterministic demo data
creditfile import customers FILE.xlsx       Excel import, all-or-nothing
creditfile backup [--to DIR] [--keep N]     one archive: database + files + manifest
creditfile backup --verify FILE             integrity check of a backup
creditfile restore FILE [--yes]             check, then restore a backup (then migrate)
creditfile bench search                     search benchmark (see docs/performance.md)
creditfile bench aging                      aging summary vs DuckDB (see docs/performance.md)
creditfile daily [--today YYYY-MM-DD]        daily job: lines, reviews, sanctions, collections
creditfile import-worker                    runs queued ERP file imports (production; `up` has one)
creditfile annual-reviews --year Y --user U  year-end batch of annual review reports
creditfile handover --from U --to U --reason T [--no-deactivate]  departing employee's handover
creditfile <any Django management command>  e.g. migrate, createsuperuser, shell
"""

import os
import sys


def _take_data_dir(argv: list[str]) -> list[str]:
    """--data-dir must be known before Django reads its settings, so it is taken here."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--data-dir" and i + 1 < len(argv):
            os.environ["CREDITFILE_DATA_DIR"] = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--data-dir="):
            os.environ["CREDITFILE_DATA_DIR"] = arg.split("=", 1)[1]
            i += 1
            continue
        out.append(arg)
        i += 1
    return out


def main(argv: list[str] | None = None) -> None:
    argv = _take_data_dir(list(sys.argv[1:] if argv is None else argv))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "creditfile.settings")
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(["creditfile", *argv])


if __name__ == "__main__":
    main()
