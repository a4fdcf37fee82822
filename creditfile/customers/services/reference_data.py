"""Reference data every installation starts with: GB/T 2260 regions and the default
classification dictionaries (R-14).

Shared by migration 0003 (which passes in its historical models) and by the tests and
the demo command (which use the current ones). Loading is idempotent by code, so running
it again only adds what is missing and corrects names that changed.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REGIONS_CSV = DATA_DIR / "regions.csv"


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    parent_code: str
    level: int


def read_regions(path: Path = REGIONS_CSV) -> list[RegionRow]:
    """The shipped region list, parents before children."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [
            RegionRow(r["code"], r["name"], r["parent_code"], int(r["level"]))
            for r in csv.DictReader(handle)
        ]
    return sorted(rows, key=lambda r: (r.level, r.code))


# (code, Chinese name, English name). Industry: the 20 sections of GB/T 4754-2017.
INDUSTRIES = [
    ("A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"),
    ("B", "采矿业", "Mining"),
    ("C", "制造业", "Manufacturing"),
    ("D", "电力、热力、燃气及水生产和供应业", "Electricity, heat, gas and water supply"),
    ("E", "建筑业", "Construction"),
    ("F", "批发和零售业", "Wholesale and retail trade"),
    ("G", "交通运输、仓储和邮政业", "Transport, storage and postal services"),
    ("H", "住宿和餐饮业", "Accommodation and catering"),
    ("I", "信息传输、软件和信息技术服务业", "Information transmission, software and IT services"),
    ("J", "金融业", "Finance"),
    ("K", "房地产业", "Real estate"),
    ("L", "租赁和商务服务业", "Leasing and business services"),
    ("M", "科学研究和技术服务业", "Scientific research and technical services"),
    ("N", "水利、环境和公共设施管理业", "Water, environment and public facilities management"),
    ("O", "居民服务、修理和其他服务业", "Resident services, repair and other services"),
    ("P", "教育", "Education"),
    ("Q", "卫生和社会工作", "Health and social work"),
    ("R", "文化、体育和娱乐业", "Culture, sports and entertainment"),
    ("S", "公共管理、社会保障和社会组织", "Public administration and social organisations"),
    ("T", "国际组织", "International organisations"),
]

# enterprise type / ownership.
OWNERSHIPS = [
    ("state", "国有企业", "State-owned"),
    ("collective", "集体企业", "Collective"),
    ("private", "私营企业", "Private"),
    ("joint_stock", "股份制企业", "Joint-stock"),
    ("joint_venture", "联营/合资企业", "Joint venture"),
    ("hmt", "港澳台投资企业", "Hong Kong, Macao or Taiwan invested"),
    ("foreign", "外资企业", "Foreign-invested"),
    ("government", "政府机关/事业单位", "Government or public institution"),
    ("individual", "个体工商户", "Individual business"),
]

#
CHANNEL_TYPES = [
    ("wholesale", "批发", "Wholesale"),
    ("retail", "零售", "Retail"),
    ("agent", "代理", "Agent"),
    ("franchise", "加盟", "Franchise"),
    ("chain", "连锁", "Chain"),
    ("specialty", "专营", "Specialty"),
]

LOCATION_TYPES = [
    ("commercial", "商业区", "Commercial district"),
    ("office", "商务办公区", "Office district"),
    ("industrial", "工业区", "Industrial district"),
    ("park", "开发区/产业园区", "Development zone or industrial park"),
    ("market", "专业市场", "Wholesale market"),
    ("residential", "住宅区", "Residential area"),
    ("suburban", "郊区/乡镇", "Suburb or township"),
]

CUSTOMER_NATURES = [
    ("government", "政府机关", "Government"),
    ("special", "特殊客户", "Special customer"),
    ("ordinary", "普通公司", "Ordinary company"),
    ("individual", "个人", "Individual"),
    ("partner", "合作伙伴", "Partner"),
]

DICTIONARIES = {
    "Industry": INDUSTRIES,
    "Ownership": OWNERSHIPS,
    "ChannelType": CHANNEL_TYPES,
    "LocationType": LOCATION_TYPES,
    "CustomerNature": CUSTOMER_NATURES,
}


def load_dictionary(model, entries) -> int:
    """Create missing entries and correct changed names; returns how many were created.

    Entries an administrator deactivated or re-sorted keep those settings only where the
    shipped name still matches; the shipped order is the default for new entries.
    """
    existing = {e.code: e for e in model.objects.all()}
    new, changed = [], []
    for position, (code, name, name_en) in enumerate(entries, start=1):
        entry = existing.get(code)
        if entry is None:
            new.append(model(code=code, name=name, name_en=name_en, sort_order=position * 10))
        elif (entry.name, entry.name_en) != (name, name_en):
            entry.name, entry.name_en = name, name_en
            changed.append(entry)
    model.objects.bulk_create(new)
    if changed:
        model.objects.bulk_update(changed, ["name", "name_en"])
    return len(new)


def load_regions(region_model, rows: list[RegionRow] | None = None) -> int:
    """Create missing regions level by level (parents first); returns how many were created."""
    rows = read_regions() if rows is None else rows
    existing = {r.code: r for r in region_model.objects.all()}
    created = 0
    for level in sorted({r.level for r in rows}):
        new, changed = [], []
        for row in rows:
            if row.level != level:
                continue
            parent = existing[row.parent_code] if row.parent_code else None
            parent_id = parent.pk if parent else None
            region = existing.get(row.code)
            if region is None:
                new.append(
                    region_model(code=row.code, name=row.name, parent_id=parent_id, level=level)
                )
            elif (region.name, region.parent_id, region.level) != (row.name, parent_id, level):
                region.name, region.parent_id, region.level = row.name, parent_id, level
                changed.append(region)
        region_model.objects.bulk_create(new, batch_size=1000)
        if changed:
            region_model.objects.bulk_update(changed, ["name", "parent", "level"], batch_size=500)
        created += len(new)
        # Re-read so the next level sees primary keys on every backend.
        existing = {r.code: r for r in region_model.objects.all()}
    return created


def load_reference_data(get_model=None) -> dict[str, int]:
    """Load regions and dictionaries; `get_model(name)` gives the model (historical in
    migrations). Returns the number of rows created per model."""
    if get_model is None:
        from django.apps import apps

        def get_model(name):
            return apps.get_model("customers", name)

    created = {"Region": load_regions(get_model("Region"))}
    for name, entries in DICTIONARIES.items():
        created[name] = load_dictionary(get_model(name), entries)
    return created
