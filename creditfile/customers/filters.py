"""The filters, search and sort of the customer list (R-13), shared by the page, the Excel
export and the API so that all three return exactly the same customers.

Nothing here decides who may see what: callers pass a queryset already limited by
`visible_customers(user)`.
"""

from contextvars import ContextVar
from dataclasses import dataclass

from django import forms
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from creditfile.core import roles
from creditfile.core.models import Department, User
from creditfile.customers.choices import CreditGrade, Lifecycle, VolumeGrade
from creditfile.customers.models import Industry, Region
from creditfile.customers.services.freshness import stale_filter
from creditfile.customers.services.search import (
    SameOrder,
    has_region_filter,
    has_selective_term,
    known_count,
    name_order,
    pages_from_bigrams,
    search_customers,
)
from creditfile.customers.services.visibility import reads_everything

UNGRADED = "none"

# Sort key → ordering; a second key and the primary key keep pages stable.
SORT_FIELDS = {
    "name": ("name",),
    "credit_grade": ("credit_grade", "name"),
    "lifecycle": ("lifecycle", "name"),
    "completeness": ("completeness", "name"),
    "updated": ("file_updated_at", "name"),
}
SORT_LABELS = {
    "name": _("客户名称"),
    "credit_grade": _("信用等级"),
    "lifecycle": _("客户状态"),
    "completeness": _("完整度"),
    "updated": _("档案更新时间"),
}
DEFAULT_SORT = "name"


def region_code_prefix(code: str) -> str:
    """GB/T 2260: a province XX0000 covers XX…, a city XXXX00 covers XXXX…, a county itself."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def region_q(code: str, field: str = "region") -> Q:
    """Customers in the region with `code` or anywhere below it."""
    prefix = region_code_prefix(code)
    if len(prefix) == 6:
        return Q(**{f"{field}__code": prefix})
    # A subquery on the small Region table keeps the customer side on its region index.
    return Q(**{f"{field}__in": Region.objects.filter(code__startswith=prefix).values("pk")})


def region_ids(code: str) -> list[int]:
    """The ids of the region with `code` and of every region below it."""
    prefix = region_code_prefix(code)
    regions = (
        Region.objects.filter(code=prefix)
        if len(prefix) == 6
        else Region.objects.filter(code__startswith=prefix)
    )
    return list(regions.values_list("pk", flat=True))


# While set, a region filter compiles to `region_id = <_REGION_SLOT>` (see _page_ids_by_region).
_ONE_REGION: ContextVar[bool] = ContextVar("_ONE_REGION", default=False)
_REGION_SLOT = object()
# More regions than this (a whole country's worth) are not paged region by region.
MAX_REGIONS_PAGED_APART = 400


class _InRegions(Expression):
    """`region_id IN (ids)` for the customer list.

    The list indexes hold region, name and id after lifecycle (and owner), so a region's
    page or count reads only the region's index ranges and tests a search term's name
    there: the cost follows the region's size. Walking the name order instead and testing
    the region would stop after 50 hits, but names start with their city or province
    (江苏…, 南京…), so one province's customers lie together somewhere in that order, and the
    walk can pass hundreds of thousands of others first. Only a rare search term leads: its
    few candidates are tested for the region, which is then written so that no index
    serves it.
    """

    output_field = BooleanField()
    conditional = True
    region_filter = True

    def __init__(self, ids: list[int]):
        super().__init__()
        self.ids, self.column = list(ids), F("region")

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        if not self.ids:
            return "1 = 0", []
        column, params = compiler.compile(self.column)
        if _ONE_REGION.get():
            if connection.vendor == "postgresql":
                return f"({column} = cf_r.region)", params
            return f"({column} = %s)", [*params, _REGION_SLOT]
        placeholders = ", ".join(["%s"] * len(self.ids))
        if has_selective_term(compiler.query):
            column = f"+{column}" if connection.vendor == "sqlite" else f"{column} + 0"
        return f"({column} IN ({placeholders}))", [*params, *self.ids]


def customer_region_q(code: str) -> Q:
    """Customers in the region with `code` or below it, planned for the customer list."""
    return Q(_InRegions(region_ids(code)))


def region_choices(code: str = "") -> list[tuple[str, str]]:
    """The region picker's options: the provinces, and the cities and counties on the way to
    the chosen region, indented — a cascading picker in one short list.

    Listing every city and county (3,000+ options) made rendering the page cost more than
    its queries; choosing a province (the form refreshes the picker) opens its cities.
    """
    shown = Q(code__endswith="0000")
    if code:
        shown |= Q(code__startswith=code[:2], code__endswith="00")
        if not code.endswith("0000"):
            shown |= Q(code__startswith=code[:4])
    options = []
    for value, name in Region.objects.filter(shown).order_by("code").values_list("code", "name"):
        depth = 0 if value.endswith("0000") else 1 if value.endswith("00") else 2
        options.append((value, "\u3000" * depth + name))
    return options


def normalise_sort(value: str) -> str:
    """A whitelisted sort key, optionally with a leading "-"; anything else is the default."""
    value = (value or "").strip()
    key = value[1:] if value.startswith("-") else value
    return value if key in SORT_FIELDS else DEFAULT_SORT


def ordering_for(sort: str) -> list[str]:
    sort = normalise_sort(sort)
    descending = sort.startswith("-")
    first, *rest = SORT_FIELDS[sort.removeprefix("-")]
    return [f"-{first}" if descending else first, *rest, "-pk" if descending else "pk"]


class CustomerFilterForm(forms.Form):
    """Filter, search and sort of the customer list; `apply` turns it into a queryset."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("名称、拼音、信用代码或电话")}
        ),
    )
    credit_grade = forms.ChoiceField(
        label=_("信用等级"),
        required=False,
        choices=[("", _("全部")), *CreditGrade.choices, (UNGRADED, _("未评级"))],
    )
    region = forms.ChoiceField(label=_("地区"), required=False)
    industry = forms.ModelChoiceField(
        label=_("行业"), required=False, queryset=Industry.objects.all(), empty_label=_("全部")
    )
    lifecycle = forms.ChoiceField(
        label=_("客户状态"), required=False, choices=[("", _("全部")), *Lifecycle.choices]
    )
    owner = forms.ModelChoiceField(
        label=_("销售代表"), required=False, queryset=User.objects.none(), empty_label=_("全部")
    )
    department = forms.ModelChoiceField(
        label=_("部门"), required=False, queryset=Department.objects.all(), empty_label=_("全部")
    )
    stale = forms.ChoiceField(
        label=_("档案时效"),
        required=False,
        choices=[("", _("全部")), ("1", _("需更新")), ("0", _("已及时更新"))],
    )
    volume_grade = forms.ChoiceField(
        label=_("销量等级"), required=False, choices=[("", _("全部")), *VolumeGrade.choices]
    )
    sort = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.fields["owner"].queryset = self._owners(user)
        chosen = (self.data.get(self.add_prefix("region")) or "").strip() if self.is_bound else ""
        # Every existing code is among these options, so validation needs nothing more.
        self.fields["region"].choices = [("", _("全部")), *region_choices(chosen[:6])]

    @staticmethod
    def _owners(user):
        """The people a user can usefully filter by: only those whose customers they see."""
        people = User.objects.filter(
            is_active=True, groups__name__in=[roles.SALES_REP, roles.DEPT_MANAGER]
        ).distinct()
        if user is None or reads_everything(user):
            return people
        allowed = Q(pk=user.pk)
        if user.has_role(roles.DEPT_MANAGER) and user.department_id:
            allowed |= Q(department_id__in=user.department.subtree_ids())
        return people.filter(allowed)

    def clean_sort(self) -> str:
        return normalise_sort(self.cleaned_data.get("sort", ""))

    @property
    def chosen_sort(self) -> str:
        if not self.is_bound:
            return DEFAULT_SORT
        self.is_valid()
        return self.cleaned_data.get("sort") or normalise_sort(self.data.get("sort", ""))

    def filter(self, queryset: QuerySet) -> QuerySet:
        """Apply the filters and the search, not the order; an invalid form matches nothing."""
        if not self.is_bound:
            return queryset
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["credit_grade"] == UNGRADED:
            queryset = queryset.filter(credit_grade="")
        elif data["credit_grade"]:
            queryset = queryset.filter(credit_grade=data["credit_grade"])
        if data["region"]:
            queryset = queryset.filter(customer_region_q(data["region"]))
        if data["industry"]:
            queryset = queryset.filter(industry=data["industry"])
        if data["lifecycle"]:
            queryset = queryset.filter(lifecycle=data["lifecycle"])
        if data["owner"]:
            queryset = queryset.filter(owner=data["owner"])
        if data["department"]:
            queryset = queryset.filter(department_id__in=data["department"].subtree_ids())
        if data["stale"] == "1":
            queryset = queryset.filter(stale_filter())
        elif data["stale"] == "0":
            queryset = queryset.exclude(stale_filter())
        if data["volume_grade"]:
            queryset = queryset.filter(volume_grade=data["volume_grade"])
        return search_customers(queryset, data["q"])

    def apply(self, queryset: QuerySet) -> QuerySet:
        """Filters, search and the chosen (whitelisted) order."""
        return self.filter(queryset).order_by(*ordering_for(self.chosen_sort))


@dataclass
class CappedPage:
    """One page of a list whose total is counted only up to `cap` (COUNT(*) over a million
    rows is slow on every database); beyond that the page shows "cap+"."""

    object_list: list
    number: int
    per_page: int
    count: int
    cap: int
    has_next: bool

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def num_pages(self) -> int | None:
        """None when the total is past the cap and so unknown."""
        if self.capped:
            return None
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.object_list else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.per_page + len(self.object_list)


def _region_ids_of(query) -> list[int]:
    for child in query.where.children:
        term = getattr(child, "lhs", None)
        if getattr(term, "region_filter", False):
            return term.ids
    return []


def _page_ids_by_region(queryset: QuerySet, start: int, stop: int) -> list[int] | None:
    """The ids of a page by name of a region filter, merged from each region's own page.

    A province is a list of 20–200 regions. Each region's first `stop` rows by name are one
    ordered range of the list indexes, so the page costs at most that many index entries per
    region however many customers the province has (Guangdong: 100,000 active). None when
    the query is not such a page.
    """
    query = queryset.query
    direction = name_order(query)
    regions = _region_ids_of(query)
    if (
        direction is None
        or not 1 < len(regions) <= MAX_REGIONS_PAGED_APART
        or has_selective_term(query)
        or query.where.connector != "AND"
        or query.where.negated
    ):
        return None
    part = queryset.values(cf_id=F("pk"), cf_name=F("name"))[:stop]
    flag = _ONE_REGION.set(True)
    try:
        sql, params = part.query.get_compiler(queryset.db).as_sql()
    finally:
        _ONE_REGION.reset(flag)
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        # One plan, run once per region (a UNION of 150 subqueries takes long to plan).
        source = f"unnest(%s::bigint[]) AS cf_r(region) CROSS JOIN LATERAL ({sql}) AS cf_u"
        all_params = [list(regions), *params]
    else:
        slots = [i for i, value in enumerate(params) if value is _REGION_SLOT]
        if len(slots) != 1:
            return None
        slot = slots[0]
        parts, all_params = [], []
        for n, region in enumerate(regions):
            parts.append(f"SELECT * FROM ({sql}) AS cf_s{n}")
            all_params += [*params[:slot], region, *params[slot + 1 :]]
        source = f"({' UNION ALL '.join(parts)}) AS cf_u"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT cf_u.cf_id FROM {source} ORDER BY cf_u.cf_name {direction}, "
            f"cf_u.cf_id {direction} LIMIT {int(stop - start)} OFFSET {int(start)}",
            all_params,
        )
        return [row[0] for row in cursor.fetchall()]


def _page_rows(queryset: QuerySet, start: int, stop: int) -> list:
    """queryset[start:stop], found by id first and then fetched by id.

    Finding a page reads only the filter and sort columns, which the list indexes hold, so
    PostgreSQL pages with an index-only scan instead of visiting a table row for every
    customer the filters skip; the 50 rows (and their related rows) are then read by id.
    """
    query = queryset.query
    if query.annotations or query.extra or query.deferred_loading[1] is False or query.distinct:
        return list(queryset[start:stop])
    if getattr(query, "cf_searched", False) and not pages_from_bigrams(query):
        # A pinyin or phone term: the planner weighs its candidates against walking the name
        # order with the whole row in view, as it always has.
        return list(queryset[start:stop])
    ids_query = queryset
    if has_region_filter(query) and tuple(query.order_by[:1]) in (("name",), ("-name",)):
        # Sorting by name || '' — the same order — keeps the planner from walking a name
        # index and testing the region on each row, which it expects to stop early; but
        # names start with their city or province, so one region's customers lie together
        # somewhere in that order. See _InRegions.
        first, *rest = query.order_by
        key = SameOrder(F("name"))
        ids_query = queryset.order_by(key.desc() if first == "-name" else key.asc(), *rest)
    ids = _page_ids_by_region(queryset, start, stop)
    if ids is None:
        ids = list(ids_query.values_list("pk", flat=True)[start:stop])
    if not ids:
        return []
    fetch = queryset.model._default_manager.using(queryset.db).filter(pk__in=ids).order_by()
    if query.select_related is True:
        fetch = fetch.select_related()
    elif query.select_related:
        fetch.query.select_related = query.select_related
    if queryset._prefetch_related_lookups:
        fetch = fetch.prefetch_related(*queryset._prefetch_related_lookups)
    by_pk = {row.pk: row for row in fetch}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def capped_page(queryset: QuerySet, page: str | int | None, per_page: int = 50, cap: int = 10_000):
    """The requested page (bad numbers mean page 1) and a total counted at most to cap+1."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    rows = _page_rows(queryset, (number - 1) * per_page, number * per_page + 1)
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if number == 1 and not has_next:
        count = len(rows)
    else:
        count = known_count(queryset, cap + 1)
        if count is None:
            count = queryset.order_by().values("pk")[: cap + 1].count()
        if not rows and count and number > 1 and count <= cap:
            # Past the end (e.g. an old link after a filter change): show the last page.
            last = max(1, -(-count // per_page))
            return capped_page(queryset, last, per_page, cap)
    return CappedPage(rows, number, per_page, count, cap, has_next)
