"""Deterministic demo customers: the same seed and index always give the same file.

Each customer draws from its own generator seeded with (seed, index), so a file does not
depend on batch size, on how many customers came before, or on --append. Nothing here
touches the database: `Context` holds the ids the generator needs, and `generate` returns
plain field dictionaries that the writer turns into rows.

Speed matters (a million files must take minutes), hence `Dice`: random.Random's own
randint/choice cost several times more than the arithmetic on random() used here.
"""

import bisect
import functools
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from creditfile.core.validators import USCC_CHARSET, phone_digits, uscc_check_digit
from creditfile.customers.choices import LegalBasis
from creditfile.customers.demo import words
from creditfile.customers.demo.org import PEOPLE, SALES_TERRITORIES
from creditfile.customers.services.pinyin import name_pinyin

TZ = ZoneInfo("Asia/Shanghai")
# Key persons' details: where the signed consent is kept, and how long (the default of
# services/personal_data.py, RETENTION_YEARS, counted from when they were recorded).
CONSENT_KEPT_AT = "客户档案盒·个人信息处理同意书"
RETENTION_DAYS = 3 * 365
ATTACHMENT_CUSTOMERS = 200  # only the first files get real documents, so 1M runs stay small

# Customer mixes (value, weight).
LIFECYCLES = [
    ("active", 62),
    ("new", 9),
    ("prospect", 8),
    ("dormant", 12),
    ("lost", 6),
    ("blacklisted", 3),
]
CREDIT_GRADES = [("A", 24), ("B", 42), ("C", 24), ("D", 10)]
VOLUME_GRADES = [("key", 14), ("general", 50), ("scattered", 36)]
NATURES = [("ordinary", 84), ("partner", 6), ("special", 3), ("government", 3), ("individual", 4)]
CHANNELS = [
    ("wholesale", 30),
    ("retail", 22),
    ("agent", 20),
    ("franchise", 8),
    ("chain", 10),
    ("specialty", 10),
]
LOCATIONS = [
    ("commercial", 20),
    ("office", 15),
    ("industrial", 25),
    ("park", 15),
    ("market", 10),
    ("residential", 5),
    ("suburban", 10),
]
OWNERSHIPS = [
    ("private", 64),
    ("state", 8),
    ("collective", 3),
    ("joint_venture", 6),
    ("foreign", 6),
    ("hmt", 4),
    ("joint_stock", 9),
]
SOURCES = [("sales", 45), ("customer", 30), ("government", 12), ("credit", 8), ("bureau", 5)]


class Dice:
    """One customer's source of randomness."""

    __slots__ = ("random",)

    def __init__(self, seed_text: str):
        self.random = random.Random(seed_text).random

    def int(self, low: int, high: int) -> int:
        """An integer in [low, high], both included."""
        return low + int(self.random() * (high - low + 1))

    def pick(self, seq):
        return seq[int(self.random() * len(seq))]

    def chance(self, p: float) -> bool:
        return self.random() < p

    def sample(self, seq, k: int) -> list:
        pool, out = list(seq), []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(int(self.random() * len(pool))))
        return out

    def digits(self, n: int) -> str:
        return f"{int(self.random() * 10**n):0{n}d}"


class Choice:
    """A weighted choice with its cumulative weights prepared once."""

    def __init__(self, pairs):
        pairs = [(v, w) for v, w in pairs if w > 0]
        self.values = [v for v, _w in pairs]
        self.cum = list(itertools.accumulate(w for _v, w in pairs))
        self.total = self.cum[-1]

    def __call__(self, dice: Dice):
        return self.values[bisect.bisect_right(self.cum, dice.random() * self.total)]


@dataclass(frozen=True)
class RegionInfo:
    id: int
    code: str
    name: str
    level: int
    parent_code: str


@dataclass
class Context:
    """Everything the generator needs from the database, as plain values."""

    seed: int
    today: date
    regions: dict[str, RegionInfo]
    dictionary_ids: dict[str, dict[str, int]]  # model name → code → id
    user_ids: dict[str, int]  # username → id
    department_ids: dict[str, int]  # code → id
    leaf_regions_by_province: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self):
        if not self.leaf_regions_by_province:
            has_children = {r.parent_code for r in self.regions.values()}
            for region in self.regions.values():
                if region.level > 1 and region.code not in has_children:
                    self.leaf_regions_by_province.setdefault(region.code[:2], []).append(
                        region.code
                    )
            for codes in self.leaf_regions_by_province.values():
                codes.sort()
        self.department = Choice([(d, share) for d, (share, _p) in SALES_TERRITORIES.items()])
        self.provinces = {
            d: Choice([(p, w) for p, w in weights.items() if p in self.leaf_regions_by_province])
            for d, (_share, weights) in SALES_TERRITORIES.items()
        }
        self.reps = {
            d: [
                self.user_ids[u]
                for u, _n, dept, role in PEOPLE
                if dept == d and role == "sales_rep"
            ]
            for d in SALES_TERRITORIES
        }
        self.credit_staff = [
            self.user_ids[u] for u, _n, _d, role in PEOPLE if role.startswith("credit")
        ]
        self.credit_staff_only = [
            self.user_ids[u] for u, _n, _d, role in PEOPLE if role == "credit_staff"
        ]
        self.two_years_ago = self.today - timedelta(days=720)

    @classmethod
    def from_database(cls, seed: int, today: date) -> "Context":
        from creditfile.core.models import Department, User
        from creditfile.customers import models as m
        from creditfile.customers.services.reference_data import DICTIONARIES

        regions = {
            code: RegionInfo(pk, code, name, level, parent_code or "")
            for pk, code, name, level, parent_code in m.Region.objects.values_list(
                "pk", "code", "name", "level", "parent__code"
            )
        }
        return cls(
            seed=seed,
            today=today,
            regions=regions,
            dictionary_ids={
                name: dict(getattr(m, name).objects.values_list("code", "pk"))
                for name in DICTIONARIES
            },
            user_ids=dict(
                User.objects.filter(username__in=[p[0] for p in PEOPLE]).values_list(
                    "username", "pk"
                )
            ),
            department_ids=dict(Department.objects.values_list("code", "pk")),
        )


@dataclass
class Bundle:
    """One customer's file as field dictionaries, keyed by model name for the children."""

    index: int
    customer: dict
    children: dict[str, list[dict]]
    attachments: list[dict]


_LIFECYCLE = Choice(LIFECYCLES)
_CREDIT = Choice(CREDIT_GRADES)
_VOLUME = Choice(VOLUME_GRADES)
_NATURE = Choice(NATURES)
_CHANNEL = Choice(CHANNELS)
_LOCATION = Choice(LOCATIONS)
_OWNERSHIP = Choice(OWNERSHIPS)
_SOURCE = Choice(SOURCES)
_INDUSTRY = Choice(list(words.INDUSTRY_WEIGHTS.items()))
# Common surnames are much more common: weight 1/(rank+8).
_SURNAME = Choice([(s, 1 / (i + 8)) for i, s in enumerate(words.SURNAMES)])

# --- identifiers -------------------------------------------------------------------------

# GB 11714 organisation code: value of each character, weights, check character.
_ORG_VALUES = {ch: int(ch, 36) for ch in USCC_CHARSET}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Affine maps x → (a·x + b) mod m with gcd(a, m) = 1 are bijections on [0, m), so distinct
# indexes never share an organisation code, while the codes still look random.
_NEW_STYLE = (31**6, 387_420_491, 123_456_789)
_OLD_STYLE = (10**8, 48_271_937, 31_415_926)


def _org_check(body: str) -> str:
    c = 11 - sum(_ORG_VALUES[ch] * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def organisation_code(index: int, new_style: bool) -> str:
    """Positions 9–17 of the USCC: an old numeric organisation code or a post-2015 "MA…" one."""
    if new_style:
        modulus, a, b = _NEW_STYLE
        x = (index * a + b) % modulus
        body = "MA" + "".join(USCC_CHARSET[(x // 31**i) % 31] for i in range(5, -1, -1))
    else:
        modulus, a, b = _OLD_STYLE
        body = f"{(index * a + b) % modulus:08d}"
    return body + _org_check(body)


def make_uscc(index: int, region_code: str, entity_type: str, new_style: bool) -> str:
    """GB 32100-2015: 9 (market regulator), entity type, region, organisation code, check."""
    first17 = "9" + entity_type + region_code + organisation_code(index, new_style)
    return first17 + uscc_check_digit(first17)


@functools.lru_cache(maxsize=50_000)
def _part_pinyin(text: str) -> tuple[str, str]:
    return name_pinyin(text)


def parts_pinyin(*parts: str) -> tuple[str, str]:
    """name_pinyin of the joined name, computed per part and cached.

    pypinyin reads a few polyphones differently across a part boundary (乐 after 百 before
    工程设计: about 1 name in 7,000); the per-part reading is the natural one and keeps a
    million names affordable.
    """
    pinyins = [_part_pinyin(p) for p in parts if p]
    return "".join(p for p, _i in pinyins), "".join(i for _p, i in pinyins)


def person_name(dice: Dice) -> str:
    given = words.GIVEN_CHARS
    if dice.chance(0.3):
        return _SURNAME(dice) + dice.pick(given)
    return _SURNAME(dice) + dice.pick(given) + dice.pick(given)


def mobile(dice: Dice) -> str:
    return dice.pick(words.MOBILE_PREFIXES) + dice.digits(8)


def money(amount_yuan: int) -> Decimal:
    return Decimal(amount_yuan).quantize(Decimal("0.01"))


def _moment(day: date, dice: Dice) -> datetime:
    return datetime.combine(day, time(dice.int(8, 18), dice.int(0, 59)), tzinfo=TZ)


def _years_later(day: date, years: int) -> date:
    return date(day.year + years, day.month, min(day.day, 28))


_PROVINCE_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "特别行政区",
    "省",
    "市",
)
_MUNICIPALITIES = ("110000", "120000", "310000", "500000")


# --- the generator -----------------------------------------------------------------------


class Generator:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._area_codes: dict[str, str] = {}
        self._places: dict[str, tuple] = {}

    def dice(self, index: int) -> Dice:
        return Dice(f"creditfile-demo:{self.ctx.seed}:{index}")

    def area_code(self, region: RegionInfo) -> str:
        city = region.parent_code if region.level == 3 else region.code
        if city not in self._area_codes:
            self._area_codes[city] = words.CITY_AREA_CODES.get(
                city, words.PROVINCE_PHONE_POST[region.code[:2]][0]
            )
        return self._area_codes[city]

    def landline(self, dice: Dice, region: RegionInfo) -> str:
        area = self.area_code(region)
        digits = 8 if len(area) == 3 or dice.chance(0.7) else 7
        return f"{area}-{dice.int(2, 8)}{dice.digits(digits - 1)}"

    def place(self, region: RegionInfo) -> tuple[RegionInfo, RegionInfo | None, str]:
        """(province, prefecture city or None, province short name) of a county or city."""
        if region.code not in self._places:
            regions = self.ctx.regions
            parent = regions.get(region.parent_code)
            if parent is None:
                province, city = region, None
            elif parent.level == 1:
                province, city = parent, None if region.level == 3 else region
            else:
                province, city = regions[parent.parent_code], parent
            short = province.name
            for suffix in _PROVINCE_SUFFIXES:
                if short.endswith(suffix):
                    short = short[: -len(suffix)]
                    break
            self._places[region.code] = (province, city, short)
        return self._places[region.code]

    def name_prefix(self, dice: Dice, region: RegionInfo) -> str:
        """How companies name their seat: 深圳市…, 深圳…, 广东…, 昆山市…, 上海…"""
        province, city, short = self.place(region)
        roll = dice.random()
        if city is None:
            if province.code in _MUNICIPALITIES:
                return province.name if roll < 0.7 else short
            return region.name if roll < 0.6 else short
        if roll < 0.6:
            return city.name
        if roll < 0.75 and city.name.endswith("市") and len(city.name) > 2:
            return city.name[:-1]
        if roll < 0.9 or not region.name.endswith(("市", "县")):
            return short
        return region.name

    def provenance(self, dice: Dice, not_before: date, entered_by: int) -> dict:
        """Where a section's information came from and whether credit staff verified it."""
        ctx = self.ctx
        source_date = ctx.today - timedelta(days=dice.int(0, 720))
        if source_date < not_before:
            source_date = min(not_before, ctx.today)
        verified_at = verified_by = None
        if dice.chance(0.4):
            span = (ctx.today - source_date).days
            verified_at = _moment(source_date + timedelta(days=dice.int(0, span)), dice)
            verified_by = dice.pick(ctx.credit_staff)
        return {
            "source": _SOURCE(dice),
            "source_date": source_date,
            "entered_by_id": entered_by,
            "verified_by_id": verified_by,
            "verified_at": verified_at,
            "created_at": _moment(source_date, dice),
        }

    def shared(self, dice: Dice) -> dict:
        """Sections are mostly entered when the file is opened, the rest at a later update."""
        return self._provenances[0] if dice.chance(0.6) else self._provenances[1]

    @staticmethod
    def confidentiality(volume_grade: str, nature: str, is_prospect: bool) -> str:
        """R-40, from what is already drawn (no extra dice, so seeds keep their data): key
        accounts and government customers company level (~17%), prospects and partners
        department level (~14%), the rest personal."""
        if volume_grade == "key" or nature == "government":
            return "company"
        if is_prospect or nature == "partner":
            return "department"
        return "personal"

    def generate(self, index: int) -> Bundle:
        ctx, dice = self.ctx, self.dice(index)
        today = ctx.today

        department = ctx.department(dice)
        region = ctx.regions[
            dice.pick(ctx.leaf_regions_by_province[ctx.provinces[department](dice)])
        ]
        province, city, _short = self.place(region)
        owner_id = dice.pick(ctx.reps[department])

        industry = _INDUSTRY(dice)
        nature = _NATURE(dice)
        lifecycle = _LIFECYCLE(dice)
        is_prospect = lifecycle == "prospect"

        # Organisation form, entity type (USCC position 2) and name follow from each other.
        brand = dice.pick(words.BRAND_CHARS) + dice.pick(words.BRAND_CHARS)
        industry_words, scope = words.INDUSTRY_WORDS[industry]
        word = dice.pick(industry_words)
        entity_type = "1"
        if nature == "individual":
            organisation_form, entity_type, ownership = "individual", "2", "individual"
            word = dice.pick(words.INDUSTRY_WORDS["F"][0])
            parts = (region.name, brand, word, dice.pick(("经营部", "商行", "店")))
        elif industry == "A" and dice.chance(0.3):
            organisation_form, entity_type, ownership = "other", "3", "collective"
            parts = (region.name, brand, dice.pick(("种植", "养殖", "果蔬")), "专业合作社")
            word = "合作社"
        else:
            ownership = "state" if nature == "government" else _OWNERSHIP(dice)
            if ownership == "joint_stock" or dice.chance(0.05):
                organisation_form, suffix = "joint_stock", "股份有限公司"
            elif dice.chance(0.03):
                organisation_form, suffix = "sole", "商行"
            else:
                organisation_form = "limited"
                suffix = "有限责任公司" if dice.chance(0.15) else "有限公司"
            if ownership == "state" and dice.chance(0.5):
                suffix = "集团" + suffix
            parts = (self.name_prefix(dice, region), brand, word, suffix)
        name = "".join(parts)
        full_pinyin, initials = parts_pinyin(*parts)
        kind = "distributor" if industry == "F" and dice.chance(0.75) else "end_customer"
        if industry != "F" and dice.chance(0.08):
            kind = "distributor"

        established_on = today - timedelta(days=dice.int(200, 365 * 28))
        new_style = established_on >= date(2016, 1, 1) or dice.chance(0.25)
        uscc = make_uscc(index, region.code, entity_type, new_style)
        # Operating term: long-term (blank) or a fixed term that has not run out yet.
        term_until = None
        if dice.chance(0.55):
            term_until = _years_later(established_on, dice.pick((10, 20, 30, 50)))
            if term_until <= today:
                term_until = None
        capital = dice.pick((50, 100, 200, 300, 500, 800, 1000, 2000, 5000, 10000)) * 10_000
        if organisation_form == "individual":
            capital = dice.pick((5, 10, 20, 50)) * 10_000
        employees = max(3, int(capital / 10_000 * (0.05 + dice.random() * 0.5)))
        brand_pinyin = _part_pinyin(brand)[0]
        domain = f"{brand_pinyin}{dice.int(1, 99)}.{dice.pick(('com', 'com.cn', 'cn'))}"
        address_head = province.name + (city.name if city else "")
        if region.level == 3:
            address_head += region.name
        registered_address = f"{address_head}{dice.pick(words.ROADS)}{dice.int(1, 999)}号"
        office_address = registered_address
        if dice.chance(0.35):
            office_address = (
                f"{address_head}{dice.pick(words.ROADS)}{dice.int(1, 500)}号"
                f"{dice.pick(words.BUILDINGS)}{dice.int(2, 28)}楼"
            )
        legal_rep = person_name(dice)
        general_manager = legal_rep if dice.chance(0.5) else person_name(dice)
        post_prefix = dice.pick(words.PROVINCE_PHONE_POST[province.code[:2]][1])

        # Freshness: most files are current, some stale by age, some stale
        # because a visit was not followed by an update of the file.
        roll = dice.random()
        visit_after_update = False
        if roll < 0.72:
            updated_day = today - timedelta(days=dice.int(0, 29))
        elif roll < 0.94:
            updated_day = today - timedelta(days=dice.int(31, 500))
        else:
            updated_day = today - timedelta(days=dice.int(3, 25))
            visit_after_update = True

        entered_by = owner_id if dice.chance(0.8) else dice.pick(ctx.credit_staff)
        first_trade = None
        if not is_prospect:
            first_trade = established_on + timedelta(days=dice.int(30, 3000))
            first_trade = max(established_on, min(first_trade, today - timedelta(days=30)))
        issuing_authority = f"{(city or province).name}市场监督管理局"

        customer = {
            "name": name,
            "short_name": brand + word,
            "name_pinyin": full_pinyin,
            "name_initials": initials,
            "uscc": uscc,
            "kind": kind,
            "registered_address": registered_address,
            "office_address": office_address,
            "office_address_verified": dice.chance(0.4),
            "ownership_id": ctx.dictionary_ids["Ownership"][ownership],
            "organisation_form": organisation_form,
            "business_scope": scope,
            "registered_capital": money(capital),
            "legal_representative": legal_rep,
            "chairman": legal_rep if organisation_form == "joint_stock" else "",
            "general_manager": general_manager,
            "established_on": established_on,
            "operating_term_until": term_until,
            "licence_valid_until": term_until,
            "issuing_authority": issuing_authority,
            "first_trade_on": first_trade,
            "employees": employees,
            "phone": self.landline(dice, region),
            "fax": self.landline(dice, region) if dice.chance(0.4) else "",
            "email": f"{dice.pick(('info', 'sales', 'service', 'office'))}@{domain}",
            "website": f"http://www.{domain}" if dice.chance(0.5) else "",
            "postcode": post_prefix + dice.digits(4),
            "industry_id": ctx.dictionary_ids["Industry"][industry],
            "channel_type_id": (
                ctx.dictionary_ids["ChannelType"][_CHANNEL(dice)] if kind == "distributor" else None
            ),
            "location_type_id": ctx.dictionary_ids["LocationType"][_LOCATION(dice)],
            "nature_id": ctx.dictionary_ids["CustomerNature"][nature],
            "region_id": region.id,
            "volume_grade": "" if is_prospect else _VOLUME(dice),
            "credit_grade": ""
            if is_prospect
            else ("D" if lifecycle == "blacklisted" else _CREDIT(dice)),
            "owner_id": owner_id,
            "department_id": ctx.department_ids[department],
            "lifecycle": lifecycle,
            "lifecycle_reason": self.lifecycle_reason(dice, lifecycle),
            "file_updated_at": _moment(updated_day, dice),
            **self.provenance(dice, established_on, entered_by),
        }
        customer["updated_at"] = max(customer["file_updated_at"], customer["created_at"])
        customer["confidentiality"] = self.confidentiality(
            customer["volume_grade"], nature, is_prospect
        )
        self._provenances = (
            self.provenance(dice, max(established_on, ctx.two_years_ago), entered_by),
            self.provenance(dice, updated_day - timedelta(days=90), entered_by),
        )

        children: dict[str, list[dict]] = {
            "Contact": self.contacts(dice, region, domain, entered_by),
            "KeyPerson": self.key_people(dice, legal_rep, general_manager, entered_by),
            "BankAccount": self.bank_accounts(dice, name, city or province, region, entered_by),
        }
        statements = [] if is_prospect else self.statements(dice, capital, entered_by)
        children["FinancialStatement"] = statements
        if statements:
            customer["total_assets"] = statements[0]["total_assets"]
            customer["annual_sales"] = statements[0]["revenue"]
        children["Certification"] = self.certifications(dice, customer, industry, entered_by)
        children.update(self.sections(dice, customer, entered_by, is_prospect))
        visits = self.visits(dice, owner_id, updated_day, visit_after_update, is_prospect)
        children["Visit"] = visits
        customer["last_visit_on"] = visits[-1]["visit_date"] if visits else None
        children["Observation"] = self.observations(dice, owner_id, updated_day)
        children["FileEvent"] = self.file_events(dice, owner_id, established_on)
        children["LifecycleTransition"] = self.transitions(dice, lifecycle, owner_id, updated_day)
        customer["completeness"] = completeness_of(customer, children, ctx.today)

        attachments = []
        if index < ATTACHMENT_CUSTOMERS:
            attachments = self.attachments(dice, name, uscc, owner_id)
        return Bundle(index, customer, children, attachments)

    # --- sections --------------------------------------------------------------------------

    def lifecycle_reason(self, dice: Dice, lifecycle: str) -> str:
        reasons = {
            "dormant": ("超过半年无订单", "客户转产，暂停采购"),
            "lost": ("转向竞争对手采购", "客户停业"),
            "blacklisted": ("多次严重逾期，已移交法务追讨", "提供虚假财务资料"),
        }.get(lifecycle)
        return dice.pick(reasons) if reasons else ""

    def contacts(self, dice, region, domain, entered_by) -> list[dict]:
        rows = []
        count = dice.pick((1, 1, 2, 2, 2, 3))
        emergency_at = dice.int(0, count - 1) if dice.chance(0.45) else -1
        for i in range(count):
            title, dept = dice.pick(words.CONTACT_TITLES)
            mob = mobile(dice)
            phone = self.landline(dice, region) if dice.chance(0.6) else ""
            email = ""
            if dice.chance(0.5):
                email = f"{dice.pick(('cg', 'cw', 'xs', 'zl', 'kf'))}{i + 1}@{domain}"
            rows.append(
                {
                    "name": person_name(dice),
                    "title": title,
                    "department": dept,
                    "phone": phone,
                    "mobile": mob,
                    "email": email,
                    "is_primary": i == 0,
                    "is_emergency": i == emergency_at,
                    "phone_search": f"{mob} {phone_digits(phone)}" if phone else mob,
                    **self.shared(dice),
                }
            )
        return rows

    def key_people(self, dice, legal_rep, general_manager, entered_by) -> list[dict]:
        people = [("legal_rep", legal_rep, "法定代表人")]
        if general_manager != legal_rep:
            people.append(("general_manager", general_manager, "总经理"))
        extra = dice.pick((0, 1, 1, 2))
        for role, title in (("finance_head", "财务总监"), ("decision_maker", "采购总监"))[:extra]:
            people.append((role, person_name(dice), title))
        rows = [
            {
                "name": name,
                "role": role,
                "title": title,
                "birthday": date(dice.int(1960, 1992), dice.int(1, 12), dice.int(1, 28)),
                "mobile": mobile(dice),
                "education": dice.pick(words.EDUCATION),
                "personality": dice.pick(words.PERSONALITY),
                "hobbies": dice.pick(words.HOBBIES),
                **self.shared(dice),
            }
            for role, name, title in people[:3]
        ]
        # Details given with the person's signed consent, kept the default span from when
        # they were recorded (no extra dice: the rest of the demo stays as it was).
        for row in rows:
            row.update(
                legal_basis=LegalBasis.CONSENT,
                consent_reference=CONSENT_KEPT_AT,
                retention_until=row["source_date"] + timedelta(days=RETENTION_DAYS),
            )
        return rows

    def bank_accounts(self, dice, company, seat, region, entered_by) -> list[dict]:
        rows = []
        place = seat.name.removesuffix("市")
        banks = dice.sample(words.BANKS[:8] if dice.chance(0.7) else words.BANKS, 2)
        branch = f"{place}{region.name if region.level == 3 else ''}支行"
        for i in range(dice.pick((1, 1, 2))):
            length = dice.pick((16, 17, 19))
            rows.append(
                {
                    "bank_name": banks[i],
                    "branch": branch,
                    "account_name": company,
                    "account_number": str(dice.int(1, 9)) + dice.digits(length - 1),
                    "is_primary": i == 0,
                    "relationship_since": self.ctx.today - timedelta(days=dice.int(100, 4000)),
                    **self.shared(dice),
                }
            )
        return rows

    def statements(self, dice, capital: int, entered_by) -> list[dict]:
        """Annual statements whose balance sheet balances (FinancialStatement.clean)."""
        rows = []
        assets = capital * dice.int(12, 40) // 10
        for back in range(1, dice.pick((0, 1, 2, 2, 3, 3)) + 1):
            year_end = date(self.ctx.today.year - back, 12, 31)
            total_assets = assets * dice.int(85, 115) // 100
            total_liabilities = total_assets * dice.int(25, 85) // 100
            current_assets = total_assets * dice.int(40, 80) // 100
            revenue = total_assets * dice.int(60, 220) // 100
            operating_profit = revenue * dice.int(-5, 14) // 100
            rows.append(
                {
                    "period_end": year_end,
                    "period_type": "annual",
                    "audited": dice.chance(0.4),
                    "cash": money(current_assets * dice.int(10, 30) // 100),
                    "accounts_receivable": money(current_assets * dice.int(20, 40) // 100),
                    "inventory": money(current_assets * dice.int(15, 35) // 100),
                    "current_assets": money(current_assets),
                    "total_assets": money(total_assets),
                    "current_liabilities": money(total_liabilities * dice.int(60, 95) // 100),
                    "total_liabilities": money(total_liabilities),
                    "equity": money(total_assets - total_liabilities),
                    "revenue": money(revenue),
                    "cost_of_sales": money(revenue * dice.int(65, 90) // 100),
                    "operating_profit": money(operating_profit),
                    "net_profit": money(operating_profit * 3 // 4),
                    **self.provenance(dice, year_end + timedelta(days=90), entered_by),
                }
            )
        return rows

    def certifications(self, dice, customer, industry, entered_by) -> list[dict]:
        today = self.ctx.today
        issued = max(customer["established_on"], today - timedelta(days=dice.int(30, 3000)))
        rows = [
            {
                "kind": "business_licence",
                "name": "营业执照",
                "number": customer["uscc"],
                "issuer": customer["issuing_authority"],
                "issued_on": issued,
                "expires_on": customer["licence_valid_until"],
                **self.shared(dice),
            }
        ]
        if industry in "CEFI" and dice.chance(0.35):
            iso_issued = today - timedelta(days=dice.int(10, 1400))
            rows.append(
                {
                    "kind": "quality_cert",
                    "name": "ISO 9001质量管理体系认证证书",
                    "number": f"{dice.int(1, 999):05d}Q{dice.digits(5)}R{dice.int(0, 5)}M",
                    "issuer": dice.pick(words.CERT_BODIES),
                    "issued_on": iso_issued,
                    "expires_on": _years_later(iso_issued, 3),
                    **self.shared(dice),
                }
            )
        if industry == "C" and dice.chance(0.15):
            licence_issued = today - timedelta(days=dice.int(10, 1700))
            rows.append(
                {
                    "kind": "production_licence",
                    "name": "全国工业产品生产许可证",
                    "number": f"XK{dice.int(10, 30)}-{dice.int(1, 999):03d}-{dice.digits(5)}",
                    "issuer": customer["issuing_authority"],
                    "issued_on": licence_issued,
                    "expires_on": _years_later(licence_issued, 5),
                    **self.shared(dice),
                }
            )
        return rows

    def sections(self, dice, customer, entered_by, is_prospect) -> dict[str, list[dict]]:
        out = {"Characteristics": [], "BusinessStatus": [], "TradingStatus": [], "Competitor": []}
        if dice.chance(0.45):
            out["Characteristics"].append(
                {
                    "service_area": dice.pick(words.SERVICE_AREAS),
                    "sales_capacity": dice.pick(
                        ("销售团队约20人", "自有门店5家", "覆盖二三级经销商百余家")
                    ),
                    "potential": dice.pick(words.POTENTIAL),
                    "philosophy": dice.pick(words.PHILOSOPHY),
                    "staff_count": customer["employees"],
                    "sales_scale": customer.get("annual_sales"),
                    "management_style": dice.pick(words.MANAGEMENT),
                    "purchasing_pattern": dice.pick(words.PURCHASING),
                    "needs": dice.pick(words.NEEDS),
                    "business_trend": dice.pick(("growing", "stable", "stable", "declining")),
                    **self.shared(dice),
                }
            )
        if is_prospect:
            return out
        if dice.chance(0.35):
            out["BusinessStatus"].append(
                {
                    "current_results": dice.pick(words.RESULTS),
                    "past_results": dice.pick(words.RESULTS),
                    "management_quality": dice.pick(words.QUALITY),
                    "staff_quality": dice.pick(("业务人员稳定，专业", "人员流动较大", "一般")),
                    "relations_with_us": dice.pick(words.RELATIONS),
                    "cooperation_attitude": dice.pick(("good", "good", "fair", "poor")),
                    **self.shared(dice),
                }
            )
            for competitor in dice.sample(words.COMPETITORS, dice.pick((0, 1, 2))):
                out["Competitor"].append(
                    {
                        "name": competitor,
                        "mode": dice.pick(("直供", "经销", "代理")),
                        "annual_amount": money(dice.int(20, 2000) * 10_000),
                        "payment_terms": dice.pick(words.TRADE_TERMS),
                        **self.shared(dice),
                    }
                )
        if dice.chance(0.4):
            out["TradingStatus"].append(
                {
                    "sales_activity": dice.pick(words.RESULTS),
                    "problems": dice.pick(words.PROBLEMS),
                    "strengths": dice.pick(words.STRENGTHS),
                    "plans": dice.pick(words.PLANS),
                    "reputation": dice.pick(words.REPUTATION),
                    "credit_status": dice.pick(words.CREDIT_STATUS),
                    "trade_terms": dice.pick(words.TRADE_TERMS),
                    "past_credit_problems": dice.pick(words.PAST_PROBLEMS),
                    **self.shared(dice),
                }
            )
        return out

    def visits(self, dice, owner_id, updated_day, visit_after_update, is_prospect) -> list[dict]:
        days = [
            updated_day - timedelta(days=dice.int(0, 360))
            for _ in range(dice.pick((0, 1) if is_prospect else (0, 1, 1, 2, 3)))
        ]
        if visit_after_update:
            days.append(
                updated_day + timedelta(days=dice.int(1, (self.ctx.today - updated_day).days))
            )
        rows = []
        for day in sorted(days):
            moment = _moment(day, dice)
            rows.append(
                {
                    "visit_date": day,
                    "planned": dice.chance(0.8),
                    "purpose": dice.pick(words.VISIT_PURPOSES),
                    "findings": dice.pick(words.VISIT_FINDINGS),
                    "next_steps": dice.pick(words.NEXT_STEPS),
                    "report_type": dice.pick(
                        ("routine", "routine", "routine", "periodic", "urgent")
                    ),
                    "recorded_by_id": owner_id,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        return rows

    def observations(self, dice, owner_id, updated_day) -> list[dict]:
        rows = []
        for _ in range(dice.pick((0, 0, 1, 1, 2))):
            day = updated_day - timedelta(days=dice.int(0, 300))
            moment = _moment(day, dice)
            rows.append(
                {
                    "observed_on": day,
                    "channel": dice.pick(("visit", "call", "letter", "email", "fax", "meeting")),
                    "stationery": dice.pick(("good", "fair", "poor", "")),
                    "answer_speed": dice.pick(("good", "fair", "poor")),
                    "professionalism": dice.pick(("good", "fair", "poor")),
                    "interest": dice.pick(("good", "fair", "poor")),
                    "premises": dice.pick(words.PREMISES),
                    "payment_habits": dice.pick(words.PAYMENT_HABITS),
                    "notes": dice.pick(words.OBSERVATION_NOTES),
                    "recorded_by_id": owner_id,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        return rows

    def file_events(self, dice, owner_id, established_on) -> list[dict]:
        if not dice.chance(0.12):
            return []
        title, severity = dice.pick(words.FILE_EVENTS)
        day = max(established_on, self.ctx.today - timedelta(days=dice.int(0, 900)))
        moment = _moment(day, dice)
        return [
            {
                "occurred_on": day,
                "severity": severity,
                "title": title,
                "description": f"经查询国家企业信用信息公示系统确认：{title}。",
                "recorded_by_id": dice.pick([owner_id, *self.ctx.credit_staff_only]),
                "created_at": moment,
                "updated_at": moment,
            }
        ]

    def transitions(self, dice, lifecycle, owner_id, updated_day) -> list[dict]:
        if lifecycle not in ("dormant", "lost", "blacklisted"):
            return []
        return [
            {
                "from_state": "active",
                "to_state": lifecycle,
                "reason": self.lifecycle_reason(dice, lifecycle),
                "changed_by_id": owner_id
                if lifecycle != "blacklisted"
                else self.ctx.credit_staff[0],
                "changed_at": _moment(updated_day - timedelta(days=dice.int(0, 200)), dice),
            }
        ]

    def attachments(self, dice, name, uscc, owner_id) -> list[dict]:
        kinds = [
            ("licence", "营业执照副本", "png"),
            ("investigation", "信用调查表", "pdf"),
            ("profile", "客户概况", "txt"),
            ("financials", "年度财务报表", "pdf"),
        ]
        return [
            {
                "category": category,
                "title": f"{title}（{name}）",
                "extension": ext,
                "document_date": self.ctx.today - timedelta(days=dice.int(0, 700)),
                "name_seed": dice.int(0, 2**53) << 64 | dice.int(0, 2**53),
                "customer_name": name,
                "uscc": uscc,
                "recorded_by_id": owner_id,
            }
            for category, title, ext in dice.sample(kinds, dice.int(1, 3))
        ]


# --- completeness without queries ------------------------------------------------------------


def completeness_of(customer: dict, children: dict, today) -> int:
    """The score services.completeness gives the file, from what was generated (no queries)."""
    from types import SimpleNamespace

    from creditfile.customers.services.completeness import (
        STATEMENT_RECENT_DAYS,
        Presence,
        completeness,
    )

    recent = today - timedelta(days=STATEMENT_RECENT_DAYS)
    present = Presence(
        certification=bool(children.get("Certification")),
        key_person=bool(children.get("KeyPerson")),
        contact=bool(children.get("Contact")),
        emergency_contact=any(c["is_emergency"] for c in children.get("Contact", ())),
        characteristics=bool(children.get("Characteristics")),
        business_status=bool(children.get("BusinessStatus")),
        trading_status=bool(children.get("TradingStatus")),
        bank=bool(children.get("BankAccount")),
        recent_statement=any(
            s["period_end"] >= recent for s in children.get("FinancialStatement", ())
        ),
        visit_or_observation=bool(children.get("Visit") or children.get("Observation")),
    )
    file = SimpleNamespace(is_international=False, **customer)
    return completeness(file, present)[0]
