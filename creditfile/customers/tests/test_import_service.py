"""The import service: good files, re-imports, bad files and bad rows (R-01, R-07)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from creditfile.access.services.deliveries import stamp_for
from creditfile.core.models import ObjectChange
from creditfile.customers.imports import build_report, build_template, import_workbook
from creditfile.customers.imports.testing import (
    CONTACT_HEADERS,
    CUSTOMER_HEADERS,
    contact_row,
    customer_row,
    reference_data,
    uscc,
    write_xlsx,
)
from creditfile.customers.models import Contact, Customer, LifecycleTransition
from creditfile.customers.services.completeness import completeness


@pytest.fixture
def refs(db):
    return reference_data()


def run(path, user, **kwargs):
    with open(path, "rb") as stream:
        return import_workbook(stream, path.name, user, **kwargs)


def snapshot():
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        ObjectChange.objects.count(),
        list(Customer.objects.order_by("pk").values_list("name", "phone", "registered_capital")),
    )


def good_file(tmp_path, n=3, name="customers.xlsx"):
    return write_xlsx(
        tmp_path / name,
        {
            "客户": [CUSTOMER_HEADERS] + [customer_row(i) for i in range(1, n + 1)],
            "联系人": [CONTACT_HEADERS]
            + [contact_row(i, "王经理") for i in range(1, n + 1)]
            + [contact_row(1, "李会计", mobile="13900000001", emergency="是", primary="否")],
        },
    )


def messages(result):
    return [(p.sheet, p.row, p.column, p.message) for p in result.problems]


# -- good files ---------------------------------------------------------------------


def test_it_imports_every_row_of_a_good_file(org, refs, tmp_path):
    result = run(good_file(tmp_path), org.carl)

    assert result.ok and result.committed, messages(result)
    assert result.counts["客户"].created == 3
    assert result.counts["联系人"].created == 4
    customer = Customer.objects.get(uscc=uscc(1))
    assert customer.name == "测试客户1有限公司"
    assert customer.registered_capital == Decimal("1234567.89")
    assert customer.established_on == dt.date(2015, 3, 18)
    assert customer.industry == refs["industry"]
    assert customer.ownership == refs["ownership"]  # given by code, not name
    assert customer.region == refs["region"]
    assert customer.owner == org.alice
    assert customer.department == org.alice.department
    assert customer.lifecycle == "active"
    assert customer.kind == "distributor"
    assert customer.source == "customer"
    assert customer.entered_by == org.carl
    assert customer.name_initials.startswith("cskh")  # the pinyin signal fired
    contacts = {c.name: c for c in customer.contact_set.all()}
    assert set(contacts) == {"王经理", "李会计"}
    assert contacts["李会计"].is_emergency and not contacts["王经理"].is_emergency
    assert contacts["王经理"].is_primary
    assert customer.completeness == completeness(customer)[0]  # freshness kept once per file


def test_it_accepts_english_headers_in_any_order(org, refs, tmp_path):
    path = write_xlsx(
        tmp_path / "english.xlsx",
        {
            "客户": [
                ["Registered capital", "USCC", "Customer name", "Established on"],
                ["100", uscc(7), "英文表头公司", "2020-01-02"],
            ]
        },
    )
    result = run(path, org.carl)

    assert result.ok, messages(result)
    customer = Customer.objects.get(uscc=uscc(7))
    assert customer.name == "英文表头公司"
    assert customer.registered_capital == Decimal("100")
    assert customer.established_on == dt.date(2020, 1, 2)


def test_it_updates_on_reimport_and_never_duplicates(org, refs, tmp_path):
    path = good_file(tmp_path)
    run(path, org.carl)
    changes_after_first = ObjectChange.objects.count()

    again = run(path, org.carl)

    assert again.ok and again.committed
    assert Customer.objects.count() == 3 and Contact.objects.count() == 4
    assert again.counts["客户"].unchanged == 3 and again.counts["客户"].created == 0
    assert again.counts["联系人"].unchanged == 4
    assert ObjectChange.objects.count() == changes_after_first

    rows = [customer_row(i) for i in range(1, 4)]
    rows[0][CUSTOMER_HEADERS.index("电话")] = "021-66668888"
    changed = write_xlsx(tmp_path / "changed.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})
    third = run(changed, org.cathy)

    assert third.counts["客户"].updated == 1 and third.counts["客户"].unchanged == 2
    assert Customer.objects.count() == 3
    customer = Customer.objects.get(uscc=uscc(1))
    assert customer.phone == "021-66668888"
    change = ObjectChange.objects.get(object_id=customer.pk, field="phone")
    assert change.user == org.cathy
    assert change.actor == "import:changed.xlsx"
    assert change.old_value == "0571-88886666" and change.new_value == "021-66668888"


def test_it_updates_only_the_columns_present_in_the_file(org, refs, tmp_path):
    run(good_file(tmp_path), org.carl)
    path = write_xlsx(
        tmp_path / "partial.xlsx",
        {"客户": [["统一社会信用代码", "简称", "电话"], [uscc(1), "新简称", None]]},
    )
    result = run(path, org.carl)

    assert result.ok and result.counts["客户"].updated == 1
    customer = Customer.objects.get(uscc=uscc(1))
    assert customer.short_name == "新简称"
    assert customer.phone == "0571-88886666"  # a blank cell does not clear
    assert customer.registered_capital == Decimal("1234567.89")


def test_it_imports_contacts_for_customers_already_in_the_system(org, refs, tmp_path):
    run(good_file(tmp_path), org.carl)
    path = write_xlsx(
        tmp_path / "contacts.xlsx",
        {"联系人": [CONTACT_HEADERS, contact_row(2, "赵总", mobile="13700000002")]},
    )
    result = run(path, org.carl, kind="contacts")

    assert result.ok, messages(result)
    assert Customer.objects.get(uscc=uscc(2)).contact_set.filter(name="赵总").exists()


def test_it_imports_the_downloaded_template_once_filled_in(org, refs, tmp_path):
    path = tmp_path / "template.xlsx"
    path.write_bytes(build_template())
    workbook = load_workbook(path)
    assert workbook.sheetnames[:3] == ["客户", "联系人", "说明"]
    headers = [cell.value for cell in workbook["客户"][1]]
    assert headers[:2] == ["客户名称*", "统一社会信用代码*"]
    assert "负责销售代表（用户名）" in headers and "注册资本（元）" in headers
    help_text = " ".join(str(cell.value) for row in workbook["说明"] for cell in row if cell.value)
    assert "制造业" in help_text and "黑名单" in help_text and "经销商" in help_text
    sheet = workbook["客户"]
    sheet.append(
        {
            headers.index("客户名称*") + 1: "模板客户",
            headers.index("统一社会信用代码*") + 1: uscc(9),
        }
    )
    workbook.save(path)

    result = run(path, org.carl)

    assert result.ok, messages(result)
    assert Customer.objects.filter(uscc=uscc(9), name="模板客户").exists()


# -- bad files: a clear report, nothing changed -------------------------------------


def _bad_file(kind, tmp_path):
    good = [customer_row(i) for i in range(1, 3)]
    if kind == "wrong headers":
        return write_xlsx(
            tmp_path / "bad.xlsx", {"客户": [["客户名", "信用代码", "电话"], ["甲", uscc(1), ""]]}
        )
    if kind == "zero bytes":
        path = tmp_path / "bad.xlsx"
        path.write_bytes(b"")
        return path
    if kind == "text renamed":
        path = tmp_path / "bad.xlsx"
        path.write_text("客户名称,统一社会信用代码\n甲,123\n", encoding="utf-8")
        return path
    if kind == "png renamed":
        path = tmp_path / "bad.xlsx"
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        return path
    if kind == "zip renamed":
        import zipfile

        path = tmp_path / "bad.xlsx"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
        return path
    if kind == "xls":
        path = tmp_path / "bad.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
        return path
    if kind == "csv":
        path = tmp_path / "bad.csv"
        path.write_text("a,b\n", encoding="utf-8")
        return path
    if kind == "no customer sheet":
        return write_xlsx(tmp_path / "bad.xlsx", {"Sheet1": [CUSTOMER_HEADERS] + good})
    if kind == "no data rows":
        return write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS]})
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("wrong headers", "无法识别的列“客户名”"),
        ("zero bytes", "空文件（0字节）"),
        ("text renamed", "不是有效的Excel（.xlsx）文件"),
        ("png renamed", "实际是PNG文件"),
        ("zip renamed", "无法作为Excel（.xlsx）文件打开"),
        ("xls", "旧版Excel 97-2003（.xls）"),
        ("csv", "CSV"),
        ("no customer sheet", "没有名为“客户”的工作表（现有：Sheet1）"),
        ("no data rows", "没有数据行"),
    ],
)
def test_it_reports_a_bad_file_and_changes_nothing(org, refs, tmp_path, kind, expected):
    run(good_file(tmp_path, name="before.xlsx"), org.carl)
    before = snapshot()

    result = run(_bad_file(kind, tmp_path), org.carl)

    assert not result.ok and not result.committed
    assert any(expected in p.message for p in result.problems), messages(result)
    assert snapshot() == before


def test_it_names_each_missing_required_header(org, refs, tmp_path):
    path = write_xlsx(tmp_path / "bad.xlsx", {"联系人": [["职务", "电话"], ["经理", ""]]})
    result = run(path, org.carl, kind="contacts")

    missing = {p.column for p in result.problems}
    assert missing == {"统一社会信用代码*", "姓名*"}
    assert all(p.row == 1 and p.sheet == "联系人" for p in result.problems)
    assert Contact.objects.count() == 0


def test_it_asks_for_the_name_of_a_new_customer_when_the_column_is_left_out(org, refs, tmp_path):
    path = write_xlsx(
        tmp_path / "bad.xlsx", {"客户": [["统一社会信用代码", "简称"], [uscc(3), "甲"]]}
    )
    result = run(path, org.carl)

    assert [(p.row, p.column) for p in result.problems] == [(2, "客户名称")]
    assert Customer.objects.count() == 0


def test_it_reports_a_bad_uscc_with_row_and_column(org, refs, tmp_path):
    rows = [customer_row(i) for i in range(1, 4)]
    rows[1][CUSTOMER_HEADERS.index("统一社会信用代码*")] = uscc(2)[:17] + "0"
    path = write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})

    result = run(path, org.carl)

    assert not result.committed
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [
        ("客户", 3, "统一社会信用代码")
    ]
    assert "校验位错误" in result.problems[0].message
    assert Customer.objects.count() == 0


def test_it_reports_duplicate_codes_in_the_file_naming_both_rows(org, refs, tmp_path):
    rows = [customer_row(i) for i in range(1, 4)]
    rows[2][CUSTOMER_HEADERS.index("统一社会信用代码*")] = uscc(1).lower()
    path = write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})

    result = run(path, org.carl)

    assert {p.row for p in result.problems} == {2, 4}
    assert all("第2、4行重复" in p.message for p in result.problems)
    assert Customer.objects.count() == 0


def test_it_reports_empty_required_fields(org, refs, tmp_path):
    rows = [customer_row(i) for i in range(1, 3)]
    rows[0][CUSTOMER_HEADERS.index("客户名称*")] = "  "
    rows[1][CUSTOMER_HEADERS.index("统一社会信用代码*")] = None
    contacts = [CONTACT_HEADERS, contact_row(1, None)]
    path = write_xlsx(
        tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS] + rows, "联系人": contacts}
    )

    result = run(path, org.carl)

    found = {(p.sheet, p.row, p.column) for p in result.problems}
    assert ("客户", 2, "客户名称") in found
    assert ("客户", 3, "统一社会信用代码") in found
    assert ("联系人", 2, "姓名") in found
    assert all("必填" in p.message for p in result.problems if p.column in ("客户名称", "姓名"))
    assert Customer.objects.count() == 0 and Contact.objects.count() == 0


def test_it_lists_every_bad_row_and_writes_none_of_the_good_ones(org, refs, tmp_path):
    rows = [customer_row(i) for i in range(1, 7)]
    rows[1][CUSTOMER_HEADERS.index("成立日期")] = "2015-13-45"
    rows[3][CUSTOMER_HEADERS.index("邮编")] = "31001"
    rows[3][CUSTOMER_HEADERS.index("行业")] = "不存在的行业"
    rows[5][CUSTOMER_HEADERS.index("负责销售代表（用户名）")] = "nobody"
    path = write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})

    result = run(path, org.carl)

    assert not result.committed and result.bad_rows == 3
    assert {(p.row, p.column) for p in result.problems} == {
        (3, "成立日期"),
        (5, "邮编"),
        (5, "行业"),
        (7, "负责销售代表（用户名）"),
    }
    assert Customer.objects.count() == 0 and ObjectChange.objects.count() == 0


def test_it_refuses_contacts_of_customers_neither_in_the_file_nor_visible(org, refs, tmp_path):
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        {
            "客户": [CUSTOMER_HEADERS, customer_row(1)],
            "联系人": [CONTACT_HEADERS, contact_row(1, "王经理"), contact_row(5, "陌生人")],
        },
    )
    result = run(path, org.carl)

    assert [(p.sheet, p.row, p.column) for p in result.problems] == [
        ("联系人", 3, "统一社会信用代码")
    ]
    assert uscc(5) in result.problems[0].message
    assert Customer.objects.count() == 0 and Contact.objects.count() == 0


def test_it_points_contacts_of_a_bad_customer_row_to_that_row(org, refs, tmp_path):
    row = customer_row(1)
    row[CUSTOMER_HEADERS.index("电话")] = "12345"
    path = write_xlsx(
        tmp_path / "bad.xlsx",
        {"客户": [CUSTOMER_HEADERS, row], "联系人": [CONTACT_HEADERS, contact_row(1, "王经理")]},
    )
    result = run(path, org.carl)

    contact_problem = next(p for p in result.problems if p.sheet == "联系人")
    assert "“客户”表第2行有错误" in contact_problem.message


def test_it_refuses_a_lifecycle_move_the_rules_forbid(org, refs, tmp_path):
    run(good_file(tmp_path, n=1), org.carl)  # active
    row = customer_row(1)
    row[CUSTOMER_HEADERS.index("客户状态")] = "潜在客户"
    path = write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS, row]})

    result = run(path, org.carl)

    assert [(p.row, p.column) for p in result.problems] == [(2, "客户状态")]
    assert Customer.objects.get(uscc=uscc(1)).lifecycle == "active"


def test_it_moves_the_lifecycle_through_the_lifecycle_rule(org, refs, tmp_path):
    run(good_file(tmp_path, n=1), org.carl)
    row = customer_row(1)
    row[CUSTOMER_HEADERS.index("客户状态")] = "dormant"
    row[CUSTOMER_HEADERS.index("状态原因")] = "半年未下单"
    path = write_xlsx(tmp_path / "move.xlsx", {"客户": [CUSTOMER_HEADERS, row]})

    result = run(path, org.carl)

    assert result.ok and result.counts["客户"].updated == 1, messages(result)
    customer = Customer.objects.get(uscc=uscc(1))
    assert customer.lifecycle == "dormant" and customer.lifecycle_reason == "半年未下单"
    transition = LifecycleTransition.objects.get(customer=customer)
    assert transition.changed_by == org.carl and transition.from_state == "active"


# -- modes and permission -----------------------------------------------------------


def test_it_writes_only_good_rows_when_asked_to_skip_bad_ones(org, refs, tmp_path):
    rows = [customer_row(i) for i in range(1, 5)]
    rows[2][CUSTOMER_HEADERS.index("注册资本（元）")] = "很多"
    contacts = [CONTACT_HEADERS, contact_row(1, "王经理"), contact_row(3, "张三")]
    path = write_xlsx(
        tmp_path / "mixed.xlsx", {"客户": [CUSTOMER_HEADERS] + rows, "联系人": contacts}
    )

    result = run(path, org.carl, skip_bad_rows=True)

    assert result.committed and result.bad_rows == 2
    assert result.counts["客户"].created == 3 and result.counts["客户"].skipped == 1
    assert result.counts["联系人"].created == 1 and result.counts["联系人"].skipped == 1
    assert set(Customer.objects.values_list("uscc", flat=True)) == {uscc(1), uscc(2), uscc(4)}
    assert Contact.objects.count() == 1


def test_it_changes_nothing_on_a_dry_run_but_counts_what_would_happen(org, refs, tmp_path):
    result = run(good_file(tmp_path), org.carl, dry_run=True)

    assert result.ok and not result.committed
    assert result.counts["客户"].created == 3
    assert Customer.objects.count() == 0 and ObjectChange.objects.count() == 0


def test_it_refuses_users_without_the_import_permission(org, refs, tmp_path):
    with pytest.raises(PermissionDenied):
        run(good_file(tmp_path), org.alice)
    assert Customer.objects.count() == 0


def test_it_refuses_to_update_a_customer_the_importer_may_not_edit(org, refs, tmp_path):
    run(good_file(tmp_path, n=2), org.carl)
    Customer.objects.filter(uscc=uscc(2)).update(owner=org.walt, department=org.walt.department)
    org.mary.user_permissions.add(Permission.objects.get(codename="import_customers"))
    mary = type(org.mary).objects.get(pk=org.mary.pk)  # fresh permission cache
    rows = [customer_row(1), customer_row(2)]
    for row in rows:
        row[CUSTOMER_HEADERS.index("简称")] = "改名"
    path = write_xlsx(tmp_path / "mary.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})

    result = run(path, mary)

    assert [(p.row, p.column) for p in result.problems] == [(3, "统一社会信用代码")]
    assert "无权修改" in result.problems[0].message
    assert not Customer.objects.filter(short_name="改名").exists()


def test_it_builds_a_report_workbook_of_the_problems(org, refs, tmp_path):
    path = _bad_file("wrong headers", tmp_path)
    result = run(path, org.carl)
    report = tmp_path / "report.xlsx"
    report.write_bytes(build_report(result.problems, stamp=stamp_for(org.carl)))

    sheet = load_workbook(report).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "导出人：Carl（carl）" in rows[0][0]
    assert rows[1] == ("工作表", "行号", "列", "问题")
    assert ("客户", 1, "客户名") == rows[2][:3]
    assert sheet.freeze_panes == "A3"
