"""Excel import of customers and their contacts (R-01, R-07).

Pure functions shared by the upload screen, the `import` command and the tests:
`import_workbook` does the import and returns an `ImportResult`; `build_template`
and `build_report` produce the workbooks people download.
"""

from creditfile.customers.imports.service import (
    CONTACTS,
    CUSTOMERS,
    KINDS,
    ImportResult,
    Problem,
    SheetCounts,
    can_import,
    import_workbook,
)
from creditfile.customers.imports.workbooks import XLSX_CONTENT_TYPE, build_report, build_template

__all__ = [
    "CONTACTS",
    "CUSTOMERS",
    "KINDS",
    "XLSX_CONTENT_TYPE",
    "ImportResult",
    "Problem",
    "SheetCounts",
    "build_report",
    "build_template",
    "can_import",
    "import_workbook",
]
