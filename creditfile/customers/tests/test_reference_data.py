"""The reference data migration 0003 loads: GB/T 2260 regions and the default dictionaries."""

import pytest

from creditfile.customers.models import (
    ChannelType,
    CustomerNature,
    Industry,
    LocationType,
    Ownership,
    Region,
)
from creditfile.customers.services.reference_data import (
    INDUSTRIES,
    load_reference_data,
    read_regions,
)

pytestmark = pytest.mark.django_db


def test_it_loads_every_province_city_and_county():
    assert Region.objects.filter(level=1).count() >= 31
    assert Region.objects.filter(level=2).count() > 300
    assert Region.objects.filter(level=3).count() > 2500
    assert Region.objects.count() == len(read_regions())


@pytest.mark.parametrize(
    "code, name, parent_code, full_name",
    [
        ("110000", "北京市", None, "北京市"),
        ("440300", "深圳市", "440000", "广东省深圳市"),
        ("310115", "浦东新区", "310000", "上海市浦东新区"),
        ("320506", "吴中区", "320500", "江苏省苏州市吴中区"),
        ("419001", "济源市", "410000", "河南省济源市"),
    ],
)
def test_it_knows_the_real_codes(code, name, parent_code, full_name):
    region = Region.objects.select_related("parent").get(code=code)
    assert region.name == name
    assert (region.parent.code if region.parent else None) == parent_code
    assert region.full_name == full_name


def test_it_gives_every_region_below_a_province_a_consistent_parent():
    regions = {r.pk: r for r in Region.objects.all()}
    for region in regions.values():
        if region.level == 1:
            assert region.parent_id is None, region.code
            assert region.code.endswith("0000"), region.code
            continue
        parent = regions[region.parent_id]
        assert parent.level < region.level, region.code
        assert region.code.startswith(parent.subtree_codes_prefix()), region.code
        if region.level == 2:
            assert region.code.endswith("00") and parent.level == 1, region.code
        else:
            assert not region.code.endswith("00"), region.code


def test_it_leaves_out_statistics_only_development_zones():
    # The statistics bureau's list adds codes like 130171 石家庄高新技术产业开发区 that are
    # not administrative divisions (GB/T 2260) and never appear in a credit code.
    assert not Region.objects.filter(code="130171").exists()
    assert not Region.objects.filter(level=3, code__regex=r"^\d{4}7\d$").exists()


def test_it_loads_the_gb_t_4754_sections_and_the_default_dictionaries():
    assert list(Industry.objects.values_list("code", flat=True)) == [c for c, _n, _e in INDUSTRIES]
    assert Industry.objects.get(code="C").name == "制造业"
    assert Industry.objects.get(code="A").name == "农、林、牧、渔业"
    assert {"国有企业", "集体企业", "私营企业", "股份制企业", "外资企业", "个体工商户"} <= set(
        Ownership.objects.values_list("name", flat=True)
    )
    assert set(ChannelType.objects.values_list("name", flat=True)) == {
        "批发",
        "零售",
        "代理",
        "加盟",
        "连锁",
        "专营",
    }
    assert set(CustomerNature.objects.values_list("name", flat=True)) == {
        "政府机关",
        "特殊客户",
        "普通公司",
        "个人",
        "合作伙伴",
    }
    assert LocationType.objects.filter(name="商业区").exists()
    assert all(i.name_en for i in Industry.objects.all())


def test_it_loads_again_without_duplicates_and_repairs_what_was_changed():
    before = Region.objects.count()
    Region.objects.filter(code="440300").update(name="改错的名字")
    ChannelType.objects.filter(code="chain").delete()

    created = load_reference_data()

    assert created["Region"] == 0
    assert created["ChannelType"] == 1
    assert Region.objects.count() == before
    assert Region.objects.get(code="440300").name == "深圳市"
    assert ChannelType.objects.get(code="chain").name == "连锁"


def test_it_keeps_what_an_administrator_switched_off():
    Ownership.objects.filter(code="collective").update(active=False, sort_order=999)

    load_reference_data()

    entry = Ownership.objects.get(code="collective")
    assert (entry.active, entry.sort_order) == (False, 999)


def test_it_fills_an_empty_region_table_parents_first():
    for level in (3, 2, 1):
        Region.objects.filter(level=level).delete()

    assert load_reference_data()["Region"] == len(read_regions())
    assert Region.objects.get(code="310115").parent.code == "310000"
