"""The customer list as Excel: /customers/export.xlsx (R-13)."""

import io
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest
import time_machine
from django.contrib.auth.models import Group
from openpyxl import load_workbook

from creditfile.core import roles
from creditfile.core.models import User
from creditfile.customers.exports import COLUMNS, write_customer_list
from creditfile.customers.models import Customer
from creditfile.customers.testing import make_customer

NOW = "2026-03-16 10:30 +08:00"
URL = "/customers/export.xlsx"
HEADERS = [str(header) for header, *_rest in COLUMNS]


@pytest.fixture
def files(org):
    return {
        owner: make_customer(f"{owner}的客户有限公司", owner=getattr(org, owner))
        for owner in ("alice", "bob", "walt")
    }


def download(client, user, **params):
    client.force_login(user)
    return client.get(URL, params)


def sheet_of(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.active


def rows_of(response) -> list[tuple]:
    """The header and data rows, below the stamp line (tested on its own below)."""
    return list(sheet_of(response).iter_rows(min_row=2, values_only=True))


def test_it_refuses_a_user_without_the_export_permission(client, org, files):
    outsider = User.objects.create_user("olga", password="x" * 12, department=org.alice.department)

    assert download(client, outsider).status_code == 403


def test_it_refuses_a_role_once_the_permission_is_taken_away(client, org, files):
    group = Group.objects.get(name=roles.SALES_REP)
    group.permissions.remove(group.permissions.get(codename="export_customers"))

    assert download(client, org.alice).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_it_names_the_file_in_chinese_with_the_date(client, org, files):
    response = download(client, org.carl)

    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    expected = quote("客户一览表-20260316.xlsx")
    assert f"filename*=UTF-8''{expected}" in response["Content-Disposition"]
    assert 'filename="customers-20260316.xlsx"' in response["Content-Disposition"]
    assert response["Content-Disposition"].startswith("attachment")


def test_it_exports_only_what_the_user_may_see(client, org, files):
    alice_rows = rows_of(download(client, org.alice))
    mary_rows = rows_of(download(client, org.mary))

    assert [r[0] for r in alice_rows[1:]] == ["alice的客户有限公司"]
    assert [r[0] for r in mary_rows[1:]] == ["alice的客户有限公司", "bob的客户有限公司"]


def test_it_does_not_export_another_reps_customer_even_when_searched_for(client, org, files):
    rows = rows_of(download(client, org.alice, q="walt"))

    assert rows[1:] == []


def test_it_applies_the_same_filters_search_and_sort_as_the_list(client, org, files):
    make_customer("甲级一号有限公司", owner=org.bob, credit_grade="A")
    make_customer("甲级二号有限公司", owner=org.walt, credit_grade="A")
    make_customer("乙级有限公司", owner=org.walt, credit_grade="B")
    params = {"credit_grade": "A", "q": "甲级", "sort": "-name"}

    exported = [r[0] for r in rows_of(download(client, org.carl, **params))[1:]]
    client.force_login(org.carl)
    listed = [c.name for c in client.get("/customers/", params).context["page"].object_list]

    assert exported == listed == ["甲级二号有限公司", "甲级一号有限公司"]


@time_machine.travel(NOW, tick=False)
def test_it_writes_chinese_headers_dates_and_money_as_numbers(client, org):
    make_customer(
        "上海申通贸易有限公司",
        owner=org.alice,
        credit_grade="B",
        lifecycle="active",
        registered_capital=Decimal("5000000.5"),
        annual_sales=Decimal("123456789.12"),
        established_on=date(2010, 5, 4),
        phone="021-58881234",
        office_address="上海市浦东新区世纪大道100号",
    )

    sheet = sheet_of(download(client, org.carl))
    header = [c.value for c in sheet[2]]
    row = {h: c for h, c in zip(header, sheet[3], strict=True)}

    assert header == HEADERS
    assert header[:3] == ["客户名称", "统一社会信用代码", "客户类别"]
    assert row["客户名称"].value == "上海申通贸易有限公司"
    assert row["信用等级"].value == "B"
    assert row["客户状态"].value == "活跃客户"
    assert row["注册资本（元）"].value == pytest.approx(5000000.50)
    assert row["注册资本（元）"].number_format == "#,##0.00"
    assert row["年销售额（元）"].value == pytest.approx(123456789.12)
    assert row["成立日期"].value == datetime(2010, 5, 4)
    assert row["成立日期"].is_date and row["成立日期"].number_format == "yyyy-mm-dd"
    assert row["档案更新时间"].value == datetime(2026, 3, 16, 10, 30)
    assert row["电话"].value == "021-58881234"
    assert row["办公地址"].value == "上海市浦东新区世纪大道100号"
    assert row["完整度（%）"].value == Customer.objects.get().completeness


def test_it_freezes_the_header_and_sets_column_widths(client, org, files):
    sheet = sheet_of(download(client, org.carl))

    assert sheet.freeze_panes == "A3"  # the stamp line and the header stay in view
    assert sheet.column_dimensions["A"].width == 36
    assert sheet.column_dimensions["B"].width == 22


def test_it_stops_at_the_cap_with_a_message_row(org):
    for i in range(4):
        make_customer(f"客户{i}", owner=org.alice)
    target = io.BytesIO()

    result = write_customer_list(Customer.objects.order_by("name"), target, stamp=None, cap=3)

    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert result.capped and result.rows == 3
    assert [r[0] for r in rows[1:4]] == ["客户0", "客户1", "客户2"]
    assert "只导出了前3行" in rows[4][0]
    assert len(rows) == 5


def test_it_writes_no_message_row_below_the_cap(org):
    for i in range(3):
        make_customer(f"客户{i}", owner=org.alice)
    target = io.BytesIO()

    result = write_customer_list(Customer.objects.order_by("name"), target, stamp=None, cap=3)

    rows = list(load_workbook(target).active.iter_rows(values_only=True))
    assert not result.capped and result.rows == 3 and len(rows) == 4


def test_it_answers_bad_filters_with_an_error_naming_the_field(client, org, files):
    response = download(client, org.carl, lifecycle="zombie")

    assert response.status_code == 400
    assert "客户状态" in response.content.decode()
