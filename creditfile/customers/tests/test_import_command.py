"""`creditfile import customers|contacts FILE.xlsx` end to end."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from creditfile.core.models import ObjectChange
from creditfile.customers.imports.testing import (
    CONTACT_HEADERS,
    CUSTOMER_HEADERS,
    contact_row,
    customer_row,
    reference_data,
    uscc,
    write_xlsx,
)
from creditfile.customers.models import Contact, Customer


@pytest.fixture
def refs(db):
    return reference_data()


def good_file(tmp_path):
    return write_xlsx(
        tmp_path / "good.xlsx",
        {
            "客户": [CUSTOMER_HEADERS, customer_row(1), customer_row(2)],
            "联系人": [CONTACT_HEADERS, contact_row(2, "王经理")],
        },
    )


def bad_file(tmp_path):
    rows = [customer_row(1), customer_row(2)]
    rows[1][CUSTOMER_HEADERS.index("成立日期")] = "去年"
    return write_xlsx(tmp_path / "bad.xlsx", {"客户": [CUSTOMER_HEADERS] + rows})


def test_it_imports_a_good_file_as_the_operator(org, refs, tmp_path, capsys):
    call_command("import", "customers", str(good_file(tmp_path)))

    out = capsys.readouterr().out
    assert "客户: created 2" in out and "联系人: created 1" in out
    assert Customer.objects.count() == 2 and Contact.objects.count() == 1
    change = ObjectChange.objects.filter(object_id=Customer.objects.get(uscc=uscc(1)).pk).first()
    assert change.user is None and change.actor == "import:good.xlsx"


def test_it_attributes_the_import_to_the_named_user(org, refs, tmp_path):
    call_command("import", "customers", str(good_file(tmp_path)), "--user", "cathy")

    assert ObjectChange.objects.filter(actor="import:good.xlsx", user=org.cathy).exists()


def test_it_refuses_a_named_user_without_the_permission(org, refs, tmp_path):
    with pytest.raises(CommandError, match="may not import"):
        call_command("import", "customers", str(good_file(tmp_path)), "--user", "alice")
    assert Customer.objects.count() == 0


# run_from_argv() exits with CommandError.returncode; calling the command in-process keeps
# the test's database connection (run_from_argv closes every connection when it ends).


def test_it_exits_non_zero_and_prints_the_report_on_a_bad_file(org, refs, tmp_path, capsys):
    with pytest.raises(CommandError, match="nothing was written") as exit_info:
        call_command("import", "customers", str(bad_file(tmp_path)))

    assert exit_info.value.returncode == 1
    assert "客户/row 3/成立日期: “去年”不是有效日期" in capsys.readouterr().out
    assert Customer.objects.count() == 0


def test_it_exits_non_zero_on_a_file_that_is_not_excel(org, refs, tmp_path, capsys):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"")
    with pytest.raises(CommandError) as exit_info:
        call_command("import", "customers", str(path))

    assert exit_info.value.returncode == 1
    assert "空文件" in capsys.readouterr().out
    assert Customer.objects.count() == 0


def test_it_changes_nothing_on_a_dry_run(org, refs, tmp_path, capsys):
    call_command("import", "customers", str(good_file(tmp_path)), "--dry-run")

    assert "客户: created 2" in capsys.readouterr().out
    assert Customer.objects.count() == 0


def test_it_skips_bad_rows_when_asked_and_exits_with_2(org, refs, tmp_path, capsys):
    with pytest.raises(CommandError, match="skipped 1") as exit_info:
        call_command("import", "customers", str(bad_file(tmp_path)), "--skip-bad-rows")

    assert exit_info.value.returncode == 2
    assert list(Customer.objects.values_list("uscc", flat=True)) == [uscc(1)]


def test_it_imports_contacts_only(org, refs, tmp_path, capsys):
    call_command("import", "customers", str(good_file(tmp_path)))
    path = write_xlsx(
        tmp_path / "contacts.xlsx", {"联系人": [CONTACT_HEADERS, contact_row(1, "李会计")]}
    )

    call_command("import", "contacts", str(path))

    assert Customer.objects.get(uscc=uscc(1)).contact_set.filter(name="李会计").exists()
