"""Revealing a key person's details in real Chromium: masked, then one purpose-stated reveal
swapped into the record by htmx under the strict CSP, audited."""

import re
from datetime import date

import pytest

from creditfile.access.models import AuditEvent
from creditfile.core.testing import PASSWORD
from creditfile.customers.models import KeyPerson
from creditfile.customers.testing import make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_reveals_one_person_for_a_stated_purpose(page, org, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    customer = make_customer("华信科技有限公司", owner=org.alice)
    person = KeyPerson.objects.create(
        customer=customer,
        name="王建国",
        role="legal_rep",
        hobbies="钓鱼",
        mobile="13987654321",
        source="sales",
        retention_until=date(2030, 1, 1),
    )

    page.goto("/accounts/login/")
    page.fill("#id_username", "cathy")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/customers/"))

    page.goto(f"/customers/{customer.pk}/key-persons/")
    record = page.locator(f"#reveal-{person.pk}")
    assert "钓鱼" not in record.inner_text() and "●●●" in record.inner_text()

    page.fill(f"#reveal-purpose-{person.pk}", "准备续签合同拜访")
    record.locator("button[type=submit]").click()
    page.wait_for_selector(f"#reveal-{person.pk} >> text=钓鱼")
    assert "13987654321" in record.inner_text()
    assert AuditEvent.objects.get(action="reveal").purpose == "准备续签合同拜访"
