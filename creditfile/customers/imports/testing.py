"""Workbooks for import tests, generated with openpyxl so no binary fixtures are kept."""

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

from creditfile.core.validators import uscc_check_digit

CUSTOMER_HEADERS = [
    "客户名称*",
    "统一社会信用代码*",
    "简称",
    "客户类别",
    "注册地址",
    "法定代表人",
    "注册资本（元）",
    "成立日期",
    "行业",
    "企业类型",
    "地区代码",
    "负责销售代表（用户名）",
    "电话",
    "邮编",
    "电子邮件",
    "信息来源",
    "客户状态",
    "状态原因",
]
CONTACT_HEADERS = [
    "统一社会信用代码*",
    "姓名*",
    "职务",
    "手机",
    "电子邮件",
    "主要联系人",
    "紧急联系人",
]


def uscc(n: int) -> str:
    """A valid unified social credit code, different for every n."""
    first17 = f"9133010{n:010d}"
    return first17 + uscc_check_digit(first17)


def customer_row(n: int, owner: str = "alice") -> list:
    return [
        f"测试客户{n}有限公司",
        uscc(n),
        f"测试{n}",
        "经销商",
        "杭州市西湖区文三路1号",
        "张三",
        1234567.89,  # a float cell, as Excel stores it
        dt.datetime(2015, 3, 18),
        "制造业",
        "private",
        "330106",
        owner,
        "0571-88886666",
        "310012",
        f"info{n}@example.com",
        "客户提供",
        "活跃客户",
        None,
    ]


def contact_row(n: int, name, mobile: str | None = None, emergency="否", primary="是") -> list:
    return [uscc(n), name, "经理", mobile or f"138{n:08d}", None, primary, emergency]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def reference_data() -> dict:
    """The shipped dictionaries and regions the test rows name (loaded by migration 0003)."""
    from creditfile.customers.models import Industry, Ownership, Region
    from creditfile.customers.services.reference_data import load_reference_data

    load_reference_data()  # idempotent; a no-op after the migration
    return {
        "industry": Industry.objects.get(code="C"),
        "ownership": Ownership.objects.get(code="private"),
        "region": Region.objects.get(code="330106"),
    }
