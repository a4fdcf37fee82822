"""The filters, search and sort of the customer list (R-13), shared by the page, the Excel
export and the API so that all three return exactly the same customers.

Nothing here decides who may see what: callers pass a queryset already limited by
`visible_customers(user)`.
"""

from dataclasses import dataclass

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from creditfile.core import roles
from creditfile.core.models import Department, User
from creditfile.customers.choices import CreditGrade, Lifecycle, VolumeGrade
from creditfile.customers.models import Industry, Region
from creditfile.customers.services.freshness import stale_filter
from creditfile.customers.services.search import search_customers
from creditfile.customers.services.visibility import SEE_ALL

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
        # Provinces and cities as options; a county code (e.g. from the region tree) is
        # accepted too, which full_clean checks against the table.
        self.fields["region"].choices = [("", _("全部"))] + [
            (code, name if code.endswith("0000") else "\u3000" + name)
            for code, name in Region.objects.filter(code__endswith="00").values_list("code", "name")
        ]

    @staticmethod
    def _owners(user):
        """The people a user can usefully filter by: only those whose customers they see."""
        people = User.objects.filter(
            is_active=True, groups__name__in=[roles.SALES_REP, roles.DEPT_MANAGER]
        ).distinct()
        if user is None or user.is_superuser or user.has_role(*SEE_ALL):
            return people
        allowed = Q(pk=user.pk)
        if user.has_role(roles.DEPT_MANAGER) and user.department_id:
            allowed |= Q(department_id__in=user.department.subtree_ids())
        return people.filter(allowed)

    def clean_sort(self) -> str:
        return normalise_sort(self.cleaned_data.get("sort", ""))

    def full_clean(self):
        # The options list only provinces and cities; any existing code (a county) is valid too.
        region = self.fields["region"]
        value = (self.data.get(self.add_prefix("region")) or "").strip() if self.is_bound else ""
        if value and value not in dict(region.choices):
            below_city = Region.objects.filter(code=value).first()
            if below_city is not None:
                region.choices = [*region.choices, (value, below_city.name)]
        super().full_clean()

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
            queryset = queryset.filter(region_q(data["region"]))
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


def capped_page(queryset: QuerySet, page: str | int | None, per_page: int = 50, cap: int = 10_000):
    """The requested page (bad numbers mean page 1) and a total counted at most to cap+1."""
    try:
        number = max(1, int(page or 1))
    except (TypeError, ValueError):
        number = 1
    rows = list(queryset[(number - 1) * per_page : number * per_page + 1])
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    if number == 1 and not has_next:
        count = len(rows)
    else:
        count = queryset.order_by().values("pk")[: cap + 1].count()
        if not rows and count and number > 1 and count <= cap:
            # Past the end (e.g. an old link after a filter change): show the last page.
            last = max(1, -(-count // per_page))
            return capped_page(queryset, last, per_page, cap)
    return CappedPage(rows, number, per_page, count, cap, has_next)
