from creditfile.customers.models import Customer


def test_it_stores_pinyin_on_save(org):
    customer = Customer.objects.create(name="华信科技有限公司", source="sales", owner=org.alice)
    assert customer.name_initials == "hxkjyxgs"
    assert customer.name_pinyin.startswith("huaxinkeji")
