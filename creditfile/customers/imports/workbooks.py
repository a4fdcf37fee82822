"""The workbooks people download: the import template and the report of a failed import.

Both come from access/services/deliveries.py, so no cell can become a formula. The
report is stamped with who downloaded it and when; the template is not (no customer data
in it, and its header must stay on row 1 for the filled-in file to import).
"""

from django.apps import apps
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from creditfile.access.services.deliveries import XLSX, Stamp, spreadsheet, workbook_bytes
from creditfile.core.validators import uscc_check_digit
from creditfile.customers.imports import columns as c
from creditfile.customers.imports.values import choice_labels

XLSX_CONTENT_TYPE = XLSX
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="0B2545")
_REQUIRED_FILL = PatternFill("solid", fgColor="9B1C1C")
_VALIDATION_ROWS = 5000
EXAMPLE_USCC = "91330106MA2B0X0X0" + uscc_check_digit("91330106MA2B0X0X0")


def _allowed_values(column: c.Column) -> list[str]:
    """What a coded column accepts, as the names people type."""
    if column.kind == c.CHOICE:
        return [label for _value, label in choice_labels(column.choices)]
    if column.kind == c.DICTIONARY:
        model = apps.get_model("customers", column.model)
        return list(model.objects.filter(active=True).values_list("name", flat=True))
    if column.kind == c.BOOLEAN:
        return ["是", "否"]
    return []


def _header_row(sheet, headers: list[str], required: set[str] | None = None, widths=None) -> None:
    sheet.append(headers)
    row = sheet.max_row  # 1, or 2 under a stamp line
    for position, header in enumerate(headers, start=1):
        cell = sheet.cell(row=row, column=position)
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if required and header in required else _HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        width = (widths or {}).get(header, max(12, len(header) * 2 + 2))
        sheet.column_dimensions[get_column_letter(position)].width = width
    sheet.freeze_panes = f"A{row + 1}"


def _data_sheet(workbook, title, columns, lists_sheet, list_columns) -> None:
    sheet = workbook.create_sheet(title)
    headers = [column.template_header for column in columns]
    _header_row(
        sheet,
        headers,
        required={column.template_header for column in columns if column.required},
        widths={column.template_header: column.width for column in columns},
    )
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        if column.kind == c.DATE:
            for row in range(2, 12):
                sheet[f"{letter}{row}"].number_format = "yyyy-mm-dd"
        if column.kind not in (c.CHOICE, c.DICTIONARY, c.BOOLEAN):
            continue
        values = _allowed_values(column)
        if not values:
            continue
        source = list_columns.get(column.field)
        if source is None:
            source = get_column_letter(len(list_columns) + 1)
            list_columns[column.field] = source
            lists_sheet[f"{source}1"] = column.header
            for row, value in enumerate(values, start=2):
                lists_sheet[f"{source}{row}"] = value
        rng = f"{quote_sheetname(lists_sheet.title)}!${source}$2:${source}${len(values) + 1}"
        validation = DataValidation(
            type="list",
            formula1=rng,
            allow_blank=True,
            showErrorMessage=False,
        )
        validation.add(f"{letter}2:{letter}{_VALIDATION_ROWS}")
        sheet.add_data_validation(validation)


def _help_sheet(workbook) -> None:
    sheet = workbook.create_sheet(c.HELP_SHEET)
    lines = [
        _("客户导入模板使用说明"),
        "",
        _(
            "1. 在“客户”表每行填写一个客户，在“联系人”表每行填写一个联系人；"
            "第1行表头不要修改，列的顺序可以调整，不需要的非必填列可以删除。"
        ),
        _(
            "2. 带 * 的列为必填。统一社会信用代码用于识别客户：系统中已有相同代码的客户会被更新，"
            "不会重复建立；联系人按“客户 + 姓名”识别。"
        ),
        _("3. 更新已有客户时，只更新文件中有的列；空白单元格不会清除系统中已有的内容。"),
        _(
            "4. 整个文件要么全部导入，要么全部不导入：只要有一行有错误，系统不做任何修改，"
            "并列出每一个错误行的行号、列名和问题。也可以选择“跳过错误行”，只导入正确的行。"
        ),
        _("5. 日期填写日期格式单元格或“YYYY-MM-DD”文本；金额填写数字（元），不要带单位。"),
        _(
            "6. 行业、企业类型等编码列填写“选项”表中的名称（也可填写代码）；"
            "地区填写GB/T 2260六位行政区划代码；负责销售代表填写系统登录用户名，"
            "客户的所属部门取该用户的部门。"
        ),
        _("7. 是/否列填写“是”或“否”。新建记录未填写信息来源时记为“内部部门”。"),
        _(
            "8. 联系人的电话、手机、电子邮件至少填写一项；"
            "联系人所属客户须在本文件“客户”表中，或已在系统中。"
        ),
        "",
        _("示例统一社会信用代码（校验位正确）：%(code)s") % {"code": EXAMPLE_USCC},
        "",
    ]
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 28
    sheet.column_dimensions["C"].width = 60
    sheet.append([_("工作表"), _("列"), _("说明 / 允许的值")])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for title, columns in (
        (c.CUSTOMER_SHEET, c.CUSTOMER_COLUMNS),
        (c.CONTACT_SHEET, c.CONTACT_COLUMNS),
    ):
        for column in columns:
            notes = [str(column.note)] if column.note else []
            if column.required:
                notes.insert(0, _("必填"))
            values = _allowed_values(column)
            if column.kind == c.CHOICE:
                notes.append(
                    _("可填写：")
                    + "、".join(
                        f"{label}（{value}）" for value, label in choice_labels(column.choices)
                    )
                )
            elif column.kind == c.DICTIONARY:
                notes.append(
                    _("可填写：") + ("、".join(values) if values else _("（字典暂无内容）"))
                )
            elif column.kind == c.DATE:
                notes.append(_("日期，如 2015-03-18"))
            elif column.kind == c.MONEY:
                notes.append(_("金额（元），最多两位小数"))
            elif column.kind == c.INTEGER:
                notes.append(_("整数"))
            elif column.kind == c.BOOLEAN:
                notes.append(_("填写“是”或“否”"))
            sheet.append([title, column.template_header, "；".join(notes)])
            sheet.cell(row=sheet.max_row, column=3).alignment = Alignment(wrap_text=True)


def _regions(lists_sheet, list_columns) -> None:
    from creditfile.customers.models import Region

    letter = get_column_letter(len(list_columns) + 1)
    name_letter = get_column_letter(len(list_columns) + 2)
    lists_sheet[f"{letter}1"] = "地区代码"
    lists_sheet[f"{name_letter}1"] = "地区名称"
    for row, (code, name) in enumerate(Region.objects.values_list("code", "name"), start=2):
        lists_sheet[f"{letter}{row}"] = code
        lists_sheet[f"{name_letter}{row}"] = name


def build_template() -> bytes:
    """The import template: 客户 and 联系人 sheets, instructions, and allowed values."""
    workbook = spreadsheet(None)
    workbook.remove(workbook.active)
    lists_sheet = workbook.create_sheet(c.LISTS_SHEET)
    list_columns: dict[str, str] = {}
    _data_sheet(workbook, c.CUSTOMER_SHEET, c.CUSTOMER_COLUMNS, lists_sheet, list_columns)
    _data_sheet(workbook, c.CONTACT_SHEET, c.CONTACT_COLUMNS, lists_sheet, list_columns)
    _regions(lists_sheet, list_columns)
    for position in range(1, lists_sheet.max_column + 1):
        lists_sheet.cell(row=1, column=position).font = Font(bold=True)
        lists_sheet.column_dimensions[get_column_letter(position)].width = 18
    _help_sheet(workbook)
    # Data sheets first, then the instructions, then the value lists.
    workbook.move_sheet(c.LISTS_SHEET, offset=len(workbook.sheetnames) - 1)
    workbook.active = 0
    return _bytes(workbook)


def build_report(problems, *, stamp: Stamp) -> bytes:
    """The problems of an import as a workbook: sheet, row, column, problem (under the stamp;
    a problem may quote what was in the cell, so neutralising matters here too)."""
    workbook = spreadsheet(stamp)
    sheet = workbook.active
    sheet.title = _("导入问题")
    _header_row(
        sheet,
        [_("工作表"), _("行号"), _("列"), _("问题")],
        widths={_("问题"): 80, _("列"): 22},
    )
    for problem in problems:
        sheet.append([problem.sheet, problem.row, problem.column, problem.message])
    return _bytes(workbook)


def _bytes(workbook) -> bytes:
    return workbook_bytes(workbook)
