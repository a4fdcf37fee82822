"""Lists, search, counts, dashboards and exports never reveal a file the user may not read (R-40).

The world of tests/matrix_fixture.py holds exactly three customer files, one per
confidentiality level, each with one application, proposal, blocked order, overdue invoice
of ¥100, proposed write-off and open collection case. So for every person the number of
files they read (matrix_fixture.READERS) is also the number every count must show, and the
names of the others must appear nowhere.
"""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from tests import matrix_fixture as mf

world, world_media, _test_settings = mf.world, mf.world_media, mf._test_settings

PEOPLE = [s for s in mf.SUBJECTS if s != "anonymous"]


def holding(*perms: str) -> list[str]:
    return [s for s in PEOPLE if all(mf.has_perm(s, p) for p in perms)]


def readable(subject: str) -> set[str]:
    return {level for level in mf.LEVELS if subject in mf.READERS[level]}


def _names(levels) -> set[str]:
    return {mf.NAMES[level] for level in levels}


def _assert_only(text: str, levels: set[str], *, shown: bool = True) -> None:
    """The page names no file outside `levels` (and, if `shown`, every file in it)."""
    for level in mf.LEVELS:
        if level in levels:
            if shown:
                assert mf.NAMES[level] in text, f"{level} file missing"
        else:
            assert mf.NAMES[level] not in text, f"{level} file revealed"
            assert mf.secret(level) not in text, f"{level} file's content revealed"


# What the search box of the list, the export and the API takes: a name fragment,
# pinyin initials, the unified social credit code, the phone number.
def _searches(world):
    files = {level: world.files[level].customer for level in mf.LEVELS}
    yield "none", "", set(mf.LEVELS)
    yield "name fragment", "晨星", set(mf.LEVELS)
    yield "pinyin initials", "cx", set(mf.LEVELS)
    for level, customer in files.items():
        yield f"code of {level}", customer.uscc, {level}
        yield f"phone of {level}", mf.PHONES[level], {level}
        yield f"exact name of {level}", mf.NAMES[level], {level}


@pytest.mark.parametrize("subject", PEOPLE)
def test_it_lists_counts_and_finds_only_readable_files(world, db, subject):
    client = mf.client_for(world, subject)
    for what, q, matching in _searches(world):
        expected = readable(subject) & matching
        response = client.get(reverse("customers:list"), {"q": q} if q else {})
        assert response.status_code == 200
        page = response.context["page"]
        found = {c.name for c in page.object_list}
        assert found == _names(expected), what
        assert page.count == len(expected), what
        # The search box shows what was typed; the rest of the page is what matters.
        text = response.content.decode().replace(f'value="{q}"', "")
        _assert_only(text, expected)


@pytest.mark.parametrize("subject", PEOPLE)
def test_it_finds_only_readable_files_through_the_api(world, db, subject):
    client = mf.client_for(world, "anonymous")
    headers = {"Authorization": f"Bearer {world.tokens[subject]}"}
    for what, q, matching in _searches(world):
        expected = readable(subject) & matching
        response = client.get("/api/v1/customers", {"q": q} if q else {}, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert {c["name"] for c in body["items"]} == _names(expected), what
        assert body["count"] == len(expected), what


@pytest.mark.parametrize("subject", holding("customers.export_customers"))
def test_it_exports_only_readable_files(world, db, subject):
    client = mf.client_for(world, subject)
    for what, q, matching in _searches(world):
        expected = readable(subject) & matching
        response = client.get(reverse("customers:export"), {"q": q} if q else {})
        assert response.status_code == 200
        sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        cells = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell}
        assert cells & set(mf.NAMES.values()) == _names(expected), what
        assert not {mf.secret(level) for level in mf.LEVELS} & cells


@pytest.mark.parametrize("subject", PEOPLE)
def test_it_counts_only_readable_files_on_the_credit_queue(world, db, subject):
    response = mf.client_for(world, subject).get(reverse("credit:queue"))
    assert response.status_code == 200
    n = len(readable(subject))
    assert sum(count for _label, count, _state in response.context["counts"]) == n
    assert response.context["proposals_open"] == n
    _assert_only(response.content.decode(), readable(subject), shown=False)


@pytest.mark.parametrize("subject", holding("receivables.view_invoice"))
def test_it_counts_only_readable_files_on_the_receivables_hub(world, db, subject):
    response = mf.client_for(world, subject).get(reverse("receivables:home"))
    assert response.status_code == 200
    overview = response.context["overview"]
    n = len(readable(subject))
    assert overview.blocked_orders == n
    assert overview.open_cases == n
    assert overview.write_offs_waiting == n
    assert overview.overdue == Decimal("100") * n
    _assert_only(response.content.decode(), readable(subject), shown=False)


@pytest.mark.parametrize("subject", holding("receivables.view_invoice"))
def test_it_ages_only_readable_files(world, db, subject):
    client = mf.client_for(world, subject)
    response = client.get(reverse("receivables:aging"), {"group": "customer"})
    assert response.status_code == 200
    n = len(readable(subject))
    assert response.context["totals"].total == Decimal("100") * n
    _assert_only(response.content.decode(), readable(subject))
    invoices = client.get(reverse("receivables:aging_invoices"), {"group": "none"})
    _assert_only(invoices.content.decode(), readable(subject), shown=False)


@pytest.mark.parametrize(
    "subject",
    holding("receivables.view_invoice", "customers.export_customers"),
)
def test_it_exports_the_aging_of_readable_files_only(world, db, subject):
    response = mf.client_for(world, subject).get(reverse("receivables:aging_export"))
    assert response.status_code == 200
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell}
    assert cells & set(mf.NAMES.values()) == _names(readable(subject))


@pytest.mark.parametrize("subject", holding("receivables.view_salesorder"))
def test_it_shows_only_readable_files_blocked_orders(world, db, subject):
    response = mf.client_for(world, subject).get(reverse("receivables:blocked"))
    assert response.status_code == 200
    _assert_only(response.content.decode(), readable(subject))


@pytest.mark.parametrize(
    ("name", "perm"),
    [
        ("credit:applications", None),
        ("credit:reviews", None),
        ("credit:sanction_proposals", "credit.view_gradechangeproposal"),
        ("credit:blacklist", "credit.view_blacklistentry"),
        ("credit:breaches", "credit.view_ownbreach"),
        ("credit:credit_groups", "credit.view_creditgroup"),
        ("receivables:cases", "receivables.view_collectioncase"),
        ("receivables:writeoffs", "receivables.view_writeoff"),
        ("access:requests", None),
    ],
)
def test_it_names_no_unreadable_file_on_other_lists(world, db, name, perm):
    for subject in PEOPLE:
        if perm and not mf.has_perm(subject, perm):
            continue
        response = mf.client_for(world, subject).get(reverse(name))
        assert response.status_code == 200, (name, subject)
        # The read-request screens name the requested files (stub facts) on purpose.
        if name != "access:requests":
            _assert_only(response.content.decode(), readable(subject), shown=False)
        else:
            for level in mf.LEVELS:
                assert mf.secret(level) not in response.content.decode()


def test_it_counts_only_readable_members_of_a_credit_group(world, db):
    # The group has all three files as members; wendy reads one of them, mary two.
    for subject in ("wendy", "mary"):
        if not mf.has_perm(subject, "credit.view_creditgroup"):
            continue
        text = mf.client_for(world, subject).get(reverse("credit:credit_groups")).content.decode()
        assert "共 3 个" not in text, subject
