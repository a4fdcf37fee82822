"""信用检查设置: who may change where orders are checked, and the record it leaves."""

import pytest
from django.urls import reverse

from creditfile.core.models import Company, ObjectChange
from creditfile.receivables.models import CreditControl

URL = reverse("receivables:settings")
FORM = {
    "check_on_entry": "on",
    "check_on_delivery": "on",
    "count_open_orders": "on",
    "count_delivered": "on",
    "receivables_counted": "overdue_only",
    "overdue_tolerance_days": "10",
    "overdue_tolerance_amount": "5000.00",
}


def test_the_credit_manager_changes_the_check_points_and_the_change_is_logged(sudo_client, org):
    sudo_client.force_login(org.cathy)
    response = sudo_client.post(URL, FORM, follow=True)
    assert response.status_code == 200
    control = CreditControl.objects.get(company=Company.default())
    assert (control.check_on_entry, control.check_on_release, control.check_on_delivery) == (
        True,
        False,
        True,
    )
    assert control.receivables_counted == "overdue_only" and control.overdue_tolerance_days == 10

    sudo_client.post(URL, FORM | {"overdue_tolerance_days": "30"})
    change = ObjectChange.objects.get(field="overdue_tolerance_days")
    assert (change.old_value, change.new_value, change.user) == ("10", "30", org.cathy)
    assert "容忍逾期天数" in sudo_client.get(URL).content.decode()


def test_switching_every_check_point_off_is_refused_and_names_the_field(sudo_client, org):
    sudo_client.force_login(org.cathy)
    form = {k: v for k, v in FORM.items() if not k.startswith("check_on_")}
    response = sudo_client.post(URL, form)
    assert response.status_code == 200 and "至少选择一个信用检查点" in response.content.decode()
    assert not CreditControl.objects.exists()


def test_saving_asks_for_the_password_again(client, org):
    client.force_login(org.cathy)
    client.post(URL, FORM)
    assert not CreditControl.objects.exists()


@pytest.mark.parametrize("username", ["alice", "fiona", "audrey"])
def test_others_only_read_the_settings(sudo_client, org, username):
    sudo_client.force_login(getattr(org, username))
    page = sudo_client.get(URL)
    assert page.status_code == 200 and "您只能查看这些设置" in page.content.decode()
    assert sudo_client.post(URL, FORM).status_code == 403
    assert not CreditControl.objects.exists()
