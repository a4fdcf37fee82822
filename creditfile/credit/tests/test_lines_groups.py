"""Limits above a company line: the group-wide line and related-customer groups."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.http import Http404
from django.urls import reverse

from creditfile.core.models import Company
from creditfile.credit.choices import LineStatus
from creditfile.credit.models import CreditGroup, CreditLine
from creditfile.credit.services import groups
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.models import FileEvent
from creditfile.customers.testing import make_customer

TODAY = datetime.date(2026, 11, 23)
pytestmark = pytest.mark.django_db


@pytest.fixture
def client(sudo_client):
    """Signed-in clients have just confirmed their password (sensitive screens, core/sudo.py)."""
    return sudo_client


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2026, 11, 23, 10, 0), tick=False):
        yield


def company_line(customer, company, limit, user, **extra) -> CreditLine:
    return CreditLine.objects.create(
        customer=customer,
        company=company,
        grade="B",
        limit=Decimal(limit),
        term_days=30,
        valid_from=extra.pop("valid_from", datetime.date(2026, 1, 1)),
        granted_by=user,
        **extra,
    )


def group_input(limit="800000", reason="两家公司合计风险控制", **extra):
    values = dict(limit=Decimal(limit), grade="B", term_days=45, valid_from=TODAY, reason=reason)
    return groups.GroupLineInput(**(values | extra))


@pytest.fixture
def customer(org):
    return make_customer("华信科技有限公司", owner=org.alice)


@pytest.fixture
def companies():
    first = Company.default()
    second = Company.objects.create(name="华东销售有限公司")
    return first, second


def test_it_reports_the_group_line_company_lines_and_groups(org, customer, companies):
    first, second = companies
    company_line(customer, first, "600000", org.cathy)
    company_line(customer, second, "400000", org.cathy)
    company_line(customer, second, "999", org.cathy, status=LineStatus.SUPERSEDED)
    group = CreditGroup.objects.create(
        name="华信系", relation="同一实际控制人", limit=Decimal(1500000)
    )
    group.members.add(customer)
    expired = CreditGroup.objects.create(
        name="旧组", limit=Decimal(1), valid_until=datetime.date(2026, 1, 1)
    )
    expired.members.add(customer)
    groups.set_group_line(customer, org.carl, group_input("800000"))

    limits = groups.group_limits_for(customer, TODAY)

    assert limits.group_line.limit == Decimal("800000")
    assert limits.group_line.company is None
    assert [line.limit for line in limits.company_lines] == [Decimal(400000), Decimal(600000)]
    assert limits.company_total == Decimal("1000000")
    assert limits.company_lines_exceed_group_line  # allowed: the group line caps the total
    assert limits.credit_groups == [group]


def test_it_replaces_a_group_line_and_keeps_the_old_as_history(org, customer):
    first = groups.set_group_line(customer, org.carl, group_input("500000"))
    second = groups.set_group_line(customer, org.cathy, group_input("700000", reason="扩大合作"))
    first.refresh_from_db()
    assert first.status == LineStatus.SUPERSEDED
    assert "扩大合作" in first.end_reason
    assert second.status == LineStatus.ACTIVE
    assert second.granted_by == org.cathy
    assert second.policy is not None
    titles = list(FileEvent.objects.filter(customer=customer).values_list("title", "description"))
    assert ("设定集团总额度 700000 元", "扩大合作") in titles


def test_it_needs_a_reason_and_the_grant_right(org, customer):
    with pytest.raises(WorkflowError, match="理由"):
        groups.set_group_line(customer, org.carl, group_input(reason="  "))
    with pytest.raises(WorkflowError) as caught:
        groups.set_group_line(customer, org.fiona, group_input())
    assert caught.value.code == "forbidden"
    with pytest.raises(WorkflowError, match="有效期至"):
        groups.set_group_line(
            customer, org.carl, group_input(valid_until=TODAY - datetime.timedelta(days=1))
        )
    assert not CreditLine.objects.filter(customer=customer).exists()


def test_it_revokes_a_group_line_with_a_reason(org, customer):
    line = groups.set_group_line(customer, org.carl, group_input())
    with pytest.raises(WorkflowError):
        groups.end_group_line(line, org.carl, "")
    groups.end_group_line(line, org.carl, "客户重组")
    line.refresh_from_db()
    assert line.status == LineStatus.REVOKED
    assert groups.group_limits_for(customer, TODAY).group_line is None


def test_the_group_line_screen(client, org, customer):
    client.force_login(org.alice)
    url = reverse("credit:group_line", args=[customer.pk])
    assert client.get(url).status_code == 403
    data = {"limit": "900000", "grade": "A", "term_days": "60", "valid_from": "2026-11-23"}
    assert client.post(url, data | {"reason": "x"}).status_code == 403
    client.force_login(org.carl)
    assert client.get(url).status_code == 200
    missing = client.post(url, data)
    assert "reason" in missing.context["form"].errors
    response = client.post(url, data | {"reason": "集团统一控制"})
    assert response.status_code == 302
    line = groups.group_limits_for(customer, TODAY).group_line
    assert line.limit == Decimal("900000")
    assert line.grade == "A"
    end = reverse("credit:group_line_end", args=[customer.pk, line.pk])
    client.post(end, {"reason": "不再需要"})
    line.refresh_from_db()
    assert line.status == LineStatus.REVOKED


def test_a_hidden_customer_is_the_stub_on_the_group_line_screen(client, org, customer):
    client.force_login(org.walt)  # a sales rep of another department
    response = client.get(reverse("credit:group_line", args=[customer.pk]))
    # The stub (name, code, grade) with 403, as everywhere a customer is opened.
    assert response.status_code == 403
    assert "申请查阅" in response.content.decode()


# Related-customer groups ---------------------------------------------------------------


def test_it_creates_a_group_and_adds_and_removes_members(client, org, customer):
    other = make_customer("华信贸易有限公司", owner=org.bob)
    client.force_login(org.carl)
    response = client.post(
        reverse("credit:credit_group_add"),
        {"name": "华信系", "relation": "同一实际控制人", "limit": "2000000"},
    )
    group = CreditGroup.objects.get(name="华信系")
    assert response.url == reverse("credit:credit_group", args=[group.pk])
    assert group.created_by == org.carl
    detail = reverse("credit:credit_group", args=[group.pk])
    client.post(detail, {"customer": customer.uscc})
    client.post(detail, {"customer": "华信贸易有限公司"})
    assert set(group.members.all()) == {customer, other}
    again = client.post(detail, {"customer": customer.uscc})
    assert "该客户已在此关联客户组中。" in again.content.decode()
    unknown = client.post(detail, {"customer": "不存在的公司"})
    assert "没有找到该客户。" in unknown.content.decode()
    assert FileEvent.objects.filter(customer=other, title__contains="华信系").exists()
    client.post(reverse("credit:credit_group_remove", args=[group.pk, other.pk]))
    assert list(group.members.all()) == [customer]
    edit = reverse("credit:credit_group_edit", args=[group.pk])
    client.post(edit, {"name": "华信系", "limit": "2500000", "valid_until": "2027-12-31"})
    group.refresh_from_db()
    assert group.limit == Decimal("2500000")
    assert group.valid_until == datetime.date(2027, 12, 31)


def test_sales_may_read_groups_but_not_change_them(client, org, customer):
    group = CreditGroup.objects.create(name="华信系", limit=Decimal(1))
    group.members.add(customer)
    client.force_login(org.alice)
    assert client.get(reverse("credit:credit_groups")).status_code == 200
    detail = reverse("credit:credit_group", args=[group.pk])
    assert client.get(detail).status_code == 200
    assert client.post(detail, {"customer": customer.uscc}).status_code == 403
    assert client.get(reverse("credit:credit_group_add")).status_code == 403
    remove = reverse("credit:credit_group_remove", args=[group.pk, customer.pk])
    assert client.post(remove).status_code == 403
    assert list(group.members.all()) == [customer]


def test_members_are_visibility_checked(client, org, customer):
    """A user who may edit groups but not see a customer can neither add nor list it."""
    walt = org.walt
    for codename in ("change_creditgroup", "view_creditgroup"):
        walt.user_permissions.add(Permission.objects.get(codename=codename))
    group = CreditGroup.objects.create(name="华信系", limit=Decimal(1))
    with pytest.raises(Http404):
        groups.add_member(group, customer, walt)
    group.members.add(customer)
    assert list(groups.visible_members(group, walt)) == []
    client.force_login(walt)
    response = client.get(reverse("credit:credit_group", args=[group.pk]))
    assert customer.name not in response.content.decode()
    assert response.context["hidden_count"] == 1
    by_code = client.post(
        reverse("credit:credit_group", args=[group.pk]), {"customer": customer.uscc}
    )
    assert "没有找到该客户。" in by_code.content.decode()


def test_setting_a_group_line_asks_for_the_password_again(org, customer):
    from django.test import Client

    plain = Client()
    plain.force_login(org.carl)
    url = reverse("credit:group_line", args=[customer.pk])
    assert plain.get(url).status_code == 200  # the form may be filled in first
    data = {"limit": "9", "grade": "A", "term_days": "60", "valid_from": "2026-11-23"}
    response = plain.post(url, data | {"reason": "集团统一控制"})
    assert response.url.startswith(reverse("confirm_password"))
    assert groups.group_limits_for(customer, TODAY).group_line is None
