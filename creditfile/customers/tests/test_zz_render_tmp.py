import pytest, time_machine, subprocess
from creditfile.customers.cards import build_customer_card
from creditfile.customers.tests.test_cards import full_customer

@time_machine.travel("2026-03-16 10:30 +08:00", tick=False)
def test_render(org, settings):
    settings.COMPANY_NAME = "江南机电集团有限公司"
    d = full_customer(org.alice, "distributor", "苏州华东机电设备有限公司")
    open("/tmp/card-d.pdf","wb").write(build_customer_card(d, user=org.cathy))
    d.kind = "end_customer"; d.name = "无锡精工制造股份有限公司"; d.save()
    open("/tmp/card-e.pdf","wb").write(build_customer_card(d, user=org.cathy))
