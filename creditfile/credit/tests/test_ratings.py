"""External ratings: provider registry, the file provider, manual entry, screens."""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from creditfile.credit.models import ExternalRating
from creditfile.credit.services import ratings
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.models import Attachment
from creditfile.customers.testing import make_customer

pytestmark = pytest.mark.django_db
HEADERS = ["统一社会信用代码", "客户名称", "评级机构", "报告日期", "评级", "评分", "摘要"]


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0), tick=False):
        yield


@pytest.fixture
def customers(org):
    return [
        make_customer("华信科技有限公司", owner=org.alice),
        make_customer("长江贸易有限公司", owner=org.walt),
    ]


def xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    for r in rows:
        sheet.append(r)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv(rows) -> bytes:
    lines = [",".join(HEADERS)] + [",".join(str(v) for v in r) for r in rows]
    return "\n".join(lines).encode("utf-8")


def run(content, user, name="ratings.xlsx", dry_run=False):
    return ratings.import_ratings_file(io.BytesIO(content), name, user, dry_run=dry_run)


# The registry ---------------------------------------------------------------------------


def test_the_file_provider_is_registered():
    assert "file" in ratings.provider_names()
    provider = ratings.get_provider("file", stream=io.BytesIO(b""), filename="x.csv")
    assert isinstance(provider, ratings.FileImportProvider)
    assert isinstance(provider, ratings.RatingProvider)
    with pytest.raises(WorkflowError) as caught:
        ratings.get_provider("no-such-agency")
    assert caught.value.code == "config"


def test_another_provider_plugs_in_and_is_stored_the_same_way(org, customers, monkeypatch):
    monkeypatch.setattr(ratings, "_REGISTRY", dict(ratings._REGISTRY))
    first = customers[0]

    @ratings.register_provider
    class AgencyFeed:
        name = "agency-feed"

        def fetch(self, customers):
            for customer in customers:
                yield ratings.RatingRecord(
                    agency="某资信",
                    rated_on=datetime.date(2026, 9, 1),
                    uscc=customer.uscc,
                    score=Decimal("77"),
                )

    provider = ratings.get_provider("agency-feed")
    result = ratings.store_ratings(provider, org.carl, customers=[first])
    assert result.ok and result.created == 1
    rating = ExternalRating.objects.get()
    assert (rating.customer, rating.provider, rating.score) == (first, "agency-feed", Decimal("77"))
    assert ratings.store_ratings(provider, org.carl, customers=[first]).unchanged == 1
    with pytest.raises(ValueError):
        ratings.register_provider(type("Nameless", (), {"name": ""}))


# The file provider -----------------------------------------------------------------------


def test_it_imports_ratings_by_code_or_by_name(org, customers):
    first, second = customers
    rows = [
        [first.uscc, "", "中诚信", datetime.date(2026, 6, 30), "AA", 85, "经营稳健"],
        ["", "长江贸易有限公司", "大公", "2026-05-31", "", "61.5", ""],
    ]
    result = run(xlsx(rows), org.carl)
    assert result.ok and result.created == 2, result.problems
    rating = ExternalRating.objects.get(customer=second)
    assert (rating.agency, rating.rated_on, rating.score) == (
        "大公",
        datetime.date(2026, 5, 31),
        Decimal("61.5"),
    )
    assert rating.provider == "file" and rating.entered_by == org.carl
    again = run(xlsx(rows), org.carl)
    assert (again.created, again.unchanged) == (0, 2)
    rows[0][4] = "AA+"
    assert run(xlsx(rows), org.carl).updated == 1
    assert ExternalRating.objects.get(customer=first).rating == "AA+"


@pytest.mark.parametrize(
    "bad, column, message",
    [
        (["", "", "中诚信", "2026-06-30", "AA", "", ""], "统一社会信用代码", "至少填写一项"),
        (["{uscc}", "", "", "2026-06-30", "AA", "", ""], "评级机构", "必填"),
        (["{uscc}", "", "中诚信", "2026-13-01", "AA", "", ""], "报告日期", "不是有效日期"),
        (["{uscc}", "", "中诚信", "2027-01-01", "AA", "", ""], "报告日期", "不能晚于今天"),
        (["{uscc}", "", "中诚信", "2026-06-30", "AA", "101", ""], "评分", "0–100"),
        (["{uscc}", "", "中诚信", "2026-06-30", "", "", ""], "评级", "至少填写一项"),
        (["", "不存在公司", "中诚信", "2026-06-30", "AA", "", ""], "客户名称", "没有名称为"),
        (
            ["91330000000000000X", "", "中诚信", "2026-06-30", "AA", "", ""],
            "统一社会信用代码",
            "没有统一社会信用代码",
        ),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_written(org, customers, bad, column, message):
    first = customers[0]
    good = [first.uscc, "", "大公", "2026-06-30", "A", "70", ""]
    bad = [value.format(uscc=first.uscc) if isinstance(value, str) else value for value in bad]
    result = run(csv([good, bad]), org.carl, name="ratings.csv")
    assert [(p.row, p.column) for p in result.problems] == [(3, column)]
    assert message in result.problems[0].message
    assert not result.committed
    assert not ExternalRating.objects.exists()


def test_a_name_shared_by_two_customers_needs_the_code(org, customers):
    make_customer("华信科技有限公司", owner=org.bob)
    result = run(
        csv([["", "华信科技有限公司", "大公", "2026-06-30", "A", "", ""]]), org.carl, "r.csv"
    )
    assert "有多个" in result.problems[0].message


def test_the_same_report_twice_in_a_file_is_refused(org, customers):
    row = [customers[0].uscc, "", "大公", "2026-06-30", "A", "", ""]
    result = run(csv([row, row]), org.carl, "r.csv")
    assert [(p.row, p.column) for p in result.problems] == [(3, "报告日期")]
    assert not ExternalRating.objects.exists()


def test_a_check_only_run_writes_nothing(org, customers):
    result = run(
        csv([[customers[0].uscc, "", "大公", "2026-06-30", "A", "", ""]]), org.carl, "r.csv", True
    )
    assert result.ok and result.created == 1 and not result.committed
    assert not ExternalRating.objects.exists()


def test_sales_may_not_import(org, customers):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        run(csv([[customers[0].uscc, "", "大公", "2026-06-30", "A", "", ""]]), org.alice, "r.csv")


# By hand -----------------------------------------------------------------------------------


def test_it_adds_a_rating_by_hand_with_its_report(org, customers):
    first = customers[0]
    upload = SimpleUploadedFile("报告.pdf", b"%PDF-1.7 report", content_type="application/pdf")
    data = ratings.RatingInput(agency="中诚信", rated_on=datetime.date(2026, 6, 30), rating="AA")
    rating = ratings.add_rating(first, org.carl, data, upload)
    assert rating.provider == "manual"
    assert rating.report.customer == first
    assert rating.report.document_date == datetime.date(2026, 6, 30)
    with pytest.raises(WorkflowError, match="同一日期"):
        ratings.add_rating(first, org.carl, data)
    with pytest.raises(WorkflowError) as caught:
        ratings.add_rating(first, org.alice, data)
    assert caught.value.code == "forbidden"
    assert Attachment.objects.count() == 1


def test_the_rating_screens(client, org, customers):
    first = customers[0]
    client.force_login(org.alice)
    assert client.get(reverse("credit:ratings", args=[first.pk])).status_code == 200
    assert client.get(reverse("credit:rating_add", args=[first.pk])).status_code == 403
    assert client.get(reverse("credit:rating_import")).status_code == 403
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert client.get(reverse("credit:ratings", args=[customers[1].pk])).status_code == 403
    client.force_login(org.carl)
    url = reverse("credit:rating_add", args=[first.pk])
    upload = SimpleUploadedFile("报告.pdf", b"%PDF-1.7 report", content_type="application/pdf")
    response = client.post(
        url, {"agency": "中诚信", "rated_on": "2026-06-30", "score": "80", "report": upload}
    )
    assert response.status_code == 302
    listing = client.get(reverse("credit:ratings", args=[first.pk])).content.decode()
    assert "中诚信" in listing and "报告.pdf" in listing
    future = client.post(url, {"agency": "大公", "rated_on": "2027-01-01", "rating": "A"})
    assert "报告日期不能晚于今天" in future.content.decode()
    file = SimpleUploadedFile("r.csv", csv([[first.uscc, "", "大公", "2026-05-31", "A", "", ""]]))
    imported = client.post(reverse("credit:rating_import"), {"file": file})
    assert "导入完成" in imported.content.decode()
    assert ExternalRating.objects.filter(customer=first).count() == 2
    template = client.get(reverse("credit:rating_import_template"))
    assert template.status_code == 200


def test_the_import_screen_reports_problems_as_a_workbook(client, org, customers):
    from openpyxl import load_workbook

    client.force_login(org.cathy)
    assert client.get(reverse("credit:rating_import_report")).status_code == 404
    bad = SimpleUploadedFile("r.csv", csv([[customers[0].uscc, "", "", "2026-05-31", "A", "", ""]]))
    response = client.post(reverse("credit:rating_import"), {"file": bad, "check_only": "1"})
    assert "整个文件未导入" in response.content.decode()
    report = client.get(reverse("credit:rating_import_report"))
    sheet = load_workbook(io.BytesIO(report.content)).active
    assert "导出人：Cathy（cathy）" in sheet["A1"].value  # the stamp line, then the header
    assert (sheet["B3"].value, sheet["C3"].value) == (2, "评级机构")
    assert not ExternalRating.objects.exists()
