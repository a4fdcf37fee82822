"""Classification screens: the dictionaries (R-14), the region tree and visit routes (R-16)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, ProtectedError, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.customers.filters import region_q
from creditfile.customers.models import (
    ChannelType,
    Contact,
    Customer,
    CustomerNature,
    Industry,
    LocationType,
    Ownership,
    Region,
    Route,
    RouteStop,
)
from creditfile.customers.services import routes as route_rules
from creditfile.customers.services.search import search_customers
from creditfile.customers.services.visibility import restrict

# URL slug → dictionary model. One set of views serves all of them.
DICTIONARIES = {
    "industry": Industry,
    "ownership": Ownership,
    "channel-type": ChannelType,
    "location-type": LocationType,
    "nature": CustomerNature,
}
DICTIONARY_FIELDS = ["code", "name", "name_en", "sort_order", "active"]


def _require(request: HttpRequest, model, action: str) -> None:
    if not request.user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}"):
        raise PermissionDenied


def _dictionary(kind: str):
    try:
        return DICTIONARIES[kind]
    except KeyError:
        raise Http404 from None


def _perms_for(user, model) -> dict:
    label, name = model._meta.app_label, model._meta.model_name
    return {a: user.has_perm(f"{label}.{a}_{name}") for a in ("add", "change", "delete")}


@require_GET
def classification_index(request: HttpRequest) -> HttpResponse:
    dictionaries = [
        {
            "kind": kind,
            "label": model._meta.verbose_name_plural,
            "count": model.objects.count(),
            "can_view": request.user.has_perm(f"customers.view_{model._meta.model_name}"),
        }
        for kind, model in DICTIONARIES.items()
    ]
    return render(request, "customers/classification/index.html", {"dictionaries": dictionaries})


@require_GET
def dictionary_list(request: HttpRequest, kind: str) -> HttpResponse:
    model = _dictionary(kind)
    _require(request, model, "view")
    return render(
        request,
        "customers/classification/dictionary_list.html",
        {
            "kind": kind,
            "label": model._meta.verbose_name_plural,
            "entries": model.objects.all(),
            "perms_here": _perms_for(request.user, model),
        },
    )


@require_http_methods(["GET", "POST"])
def dictionary_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    model = _dictionary(kind)
    entry = None
    if pk is None:
        _require(request, model, "add")
    else:
        _require(request, model, "change")
        entry = get_object_or_404(model, pk=pk)
    form_class = forms.modelform_factory(model, fields=DICTIONARY_FIELDS)
    form = form_class(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("已保存「%(name)s」。") % {"name": saved.name})
        return redirect("customers:dictionary", kind=kind)
    return render(
        request,
        "customers/classification/dictionary_form.html",
        {"kind": kind, "label": model._meta.verbose_name_plural, "form": form, "entry": entry},
    )


@require_POST
def dictionary_toggle(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Deactivate (or reactivate) an entry: it stays on the customers that use it."""
    model = _dictionary(kind)
    _require(request, model, "change")
    entry = get_object_or_404(model, pk=pk)
    entry.active = not entry.active
    entry.save(update_fields=["active"])
    if entry.active:
        messages.success(request, _("已启用「%(name)s」。") % {"name": entry.name})
    else:
        messages.success(
            request, _("已停用「%(name)s」，新建客户时不再可选。") % {"name": entry.name}
        )
    return redirect("customers:dictionary", kind=kind)


@require_POST
def dictionary_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = _dictionary(kind)
    _require(request, model, "delete")
    entry = get_object_or_404(model, pk=pk)
    try:
        entry.delete()
    except ProtectedError:
        messages.error(
            request,
            _("「%(name)s」仍被客户档案使用，不能删除；可以改为停用。") % {"name": entry.name},
        )
    else:
        messages.success(request, _("已删除「%(name)s」。") % {"name": entry.name})
    return redirect("customers:dictionary", kind=kind)


# Regions -------------------------------------------------------------------------------

REGION_SEARCH_LIMIT = 200


def _depth(region: Region | None) -> int:
    """How many levels a region sits below the top (its parents come select_related)."""
    depth = 0
    while region is not None and region.parent_id is not None:
        depth, region = depth + 1, region.parent
    return depth


def _region_rows(regions, depth: int = 0):
    """Regions of one level with their indentation and how many children each has."""
    rows = list(regions.annotate(child_count=Count("children")))
    for region in rows:
        region.depth = depth
    return rows


@require_GET
def region_tree(request: HttpRequest) -> HttpResponse:
    _require(request, Region, "view")
    q = (request.GET.get("q") or "").strip()
    if q:
        matches = Region.objects.select_related("parent__parent").filter(
            Q(name__contains=q) | Q(code__startswith=q)
        )
        rows = list(matches[:REGION_SEARCH_LIMIT])
        return render(
            request,
            "customers/classification/region_tree.html",
            {"q": q, "matches": rows, "truncated": len(rows) == REGION_SEARCH_LIMIT},
        )
    rows = _region_rows(Region.objects.filter(parent__isnull=True))
    return render(request, "customers/classification/region_tree.html", {"rows": rows})


@require_GET
def region_children(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Region, "view")
    region = get_object_or_404(Region.objects.select_related("parent__parent"), pk=pk)
    rows = _region_rows(Region.objects.filter(parent=region), _depth(region) + 1)
    if request.htmx:
        return render(request, "customers/classification/region_rows.html", {"rows": rows})
    return render(
        request, "customers/classification/region_tree.html", {"current": region, "rows": rows}
    )


# Visit routes ----------------------------------------------------------------------------


class RouteFilterForm(forms.Form):
    region = forms.CharField(label=gettext_lazy("地区代码"), required=False, max_length=6)
    sales_rep = forms.ModelChoiceField(
        label=gettext_lazy("销售代表"),
        required=False,
        queryset=None,
        empty_label=gettext_lazy("全部"),
    )

    def __init__(self, data, user):
        super().__init__(data)
        self.fields["sales_rep"].queryset = route_rules.assignable_reps(user)

    def clean_region(self):
        code = self.cleaned_data["region"].strip()
        if code and not Region.objects.filter(code=code).exists():
            raise forms.ValidationError(_("没有代码为 %(code)s 的地区。") % {"code": code})
        return code


class RouteForm(forms.ModelForm):
    class Meta:
        model = Route
        fields = ["name", "region", "sales_rep", "description"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.select_related("parent__parent")
        reps = route_rules.assignable_reps(user)
        self.fields["sales_rep"].queryset = reps
        if self.instance.pk is None and user in reps:
            self.fields["sales_rep"].initial = user.pk


@require_GET
def route_list(request: HttpRequest) -> HttpResponse:
    _require(request, Route, "view")
    form = RouteFilterForm(request.GET or None, request.user)
    routes = (
        route_rules.visible_routes(request.user)
        .select_related("region__parent__parent", "sales_rep")
        .annotate(stop_count=Count("stops"))
        .order_by("region__code", "name", "pk")
    )
    if form.is_bound:
        if form.is_valid():
            if form.cleaned_data["region"]:
                routes = routes.filter(region_q(form.cleaned_data["region"]))
            if form.cleaned_data["sales_rep"]:
                routes = routes.filter(sales_rep=form.cleaned_data["sales_rep"])
        else:
            routes = routes.none()
    page = Paginator(routes, 100).get_page(request.GET.get("page"))
    editable = set(
        route_rules.visible_routes(request.user, "edit")
        .filter(pk__in=[r.pk for r in page.object_list])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "customers/route_list.html",
        {
            "form": form,
            "page": page,
            "editable": editable,
            "can_add": request.user.has_perm("customers.add_route"),
        },
    )


@require_http_methods(["GET", "POST"])
def route_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if pk is None:
        _require(request, Route, "add")
        route = None
    else:
        route = route_rules.get_route_for(request.user, pk, "edit")
    form = RouteForm(request.POST or None, instance=route, user=request.user)
    if request.method == "POST" and form.is_valid():
        route = form.save()
        messages.success(request, _("已保存路线「%(name)s」。") % {"name": route.name})
        return redirect("customers:route", pk=route.pk)
    return render(request, "customers/route_form.html", {"form": form, "route": route})


@require_POST
def route_delete(request: HttpRequest, pk: int) -> HttpResponse:
    route = route_rules.get_route_for(request.user, pk, "edit")
    _require(request, Route, "delete")
    name = route.name
    route.delete()
    messages.success(request, _("已删除路线「%(name)s」。") % {"name": name})
    return redirect("customers:routes")


def _stops(route: Route, user) -> list[RouteStop]:
    """The route's stops in order; customers the user may not see are shown without details."""
    stops = list(
        route.stops.select_related("customer__region__parent__parent").order_by("position")
    )
    visible = set(
        restrict(
            Customer.objects.filter(pk__in=[s.customer_id for s in stops]), user, "view"
        ).values_list("pk", flat=True)
    )
    for stop in stops:
        stop.visible = stop.customer_id in visible
    return stops


def _candidates(route: Route, user, q: str) -> list[Customer]:
    if not q:
        return []
    found = search_customers(route_rules.addable_customers(user, route), q)
    return list(found.select_related("region__parent__parent").order_by("name", "pk")[:20])


def _route_context(request: HttpRequest, route: Route) -> dict:
    q = (request.GET.get("q") or "").strip()
    can_edit = route_rules.can_edit_route(request.user, route)
    return {
        "route": route,
        "stops": _stops(route, request.user),
        "can_edit": can_edit,
        "can_delete": can_edit and request.user.has_perm("customers.delete_route"),
        "q": q,
        "candidates": _candidates(route, request.user, q) if can_edit else [],
    }


@require_GET
def route_detail(request: HttpRequest, pk: int) -> HttpResponse:
    route = route_rules.get_route_for(request.user, pk)
    return render(request, "customers/route_detail.html", _route_context(request, route))


@require_GET
def route_candidates(request: HttpRequest, pk: int) -> HttpResponse:
    route = route_rules.get_route_for(request.user, pk, "edit")
    context = _route_context(request, route)
    if request.htmx:
        return render(request, "customers/route_candidates.html", context)
    return render(request, "customers/route_detail.html", context)


def _after_stop_change(request: HttpRequest, route: Route, added: bool = False) -> HttpResponse:
    if request.htmx:
        context = _route_context(request, route) | {"clear_candidates": added}
        return render(request, "customers/route_stops.html", context)
    return redirect("customers:route", pk=route.pk)


@require_POST
def route_stop_add(request: HttpRequest, pk: int) -> HttpResponse:
    route = route_rules.get_route_for(request.user, pk, "edit")
    ids = []
    for raw in request.POST.getlist("customer"):
        try:
            ids.append(int(raw))
        except ValueError:
            pass
    customers = list(route_rules.addable_customers(request.user, route).filter(pk__in=ids))
    if not ids or len(customers) != len(set(ids)):
        # All or nothing: a partly applied selection would be harder to notice than an error.
        messages.error(request, _("所选客户不存在、已在路线上或您无权查看，未添加任何客户。"))
    else:
        route_rules.add_stops(route, customers)
        messages.success(request, _("已添加 %(n)d 位客户到路线。") % {"n": len(customers)})
    return _after_stop_change(request, route, added=bool(customers))


@require_POST
def route_stop_move(request: HttpRequest, pk: int, stop_pk: int) -> HttpResponse:
    route = route_rules.get_route_for(request.user, pk, "edit")
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        messages.error(request, _("移动方向无效。"))
        return _after_stop_change(request, route)
    try:
        route_rules.move_stop(route, stop_pk, offset)
    except RouteStop.DoesNotExist:
        raise Http404 from None
    return _after_stop_change(request, route)


@require_POST
def route_stop_remove(request: HttpRequest, pk: int, stop_pk: int) -> HttpResponse:
    route = route_rules.get_route_for(request.user, pk, "edit")
    try:
        route_rules.remove_stop(route, stop_pk)
    except RouteStop.DoesNotExist:
        raise Http404 from None
    return _after_stop_change(request, route)


@require_GET
def route_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    """A print-friendly sheet: the stops in order with address and phone."""
    route = route_rules.get_route_for(request.user, pk)
    stops = _stops(route, request.user)
    primary = {}
    contacts = Contact.objects.filter(
        customer_id__in=[s.customer_id for s in stops if s.visible]
    ).order_by("customer_id", "-is_primary", "name")
    for contact in contacts:
        primary.setdefault(contact.customer_id, contact)
    for stop in stops:
        stop.contact = primary.get(stop.customer_id)
    return render(
        request,
        "customers/route_sheet.html",
        {"route": route, "stops": stops, "list_url": reverse("customers:route", args=[pk])},
    )


urlpatterns = [
    path("classification/", classification_index, name="classification"),
    path("classification/regions/", region_tree, name="regions"),
    path("classification/regions/<int:pk>/", region_children, name="region_children"),
    path("classification/<slug:kind>/", dictionary_list, name="dictionary"),
    path("classification/<slug:kind>/new/", dictionary_edit, name="dictionary_add"),
    path("classification/<slug:kind>/<int:pk>/", dictionary_edit, name="dictionary_edit"),
    path(
        "classification/<slug:kind>/<int:pk>/toggle/", dictionary_toggle, name="dictionary_toggle"
    ),
    path(
        "classification/<slug:kind>/<int:pk>/delete/", dictionary_delete, name="dictionary_delete"
    ),
    path("routes/", route_list, name="routes"),
    path("routes/new/", route_edit, name="route_add"),
    path("routes/<int:pk>/", route_detail, name="route"),
    path("routes/<int:pk>/edit/", route_edit, name="route_edit"),
    path("routes/<int:pk>/delete/", route_delete, name="route_delete"),
    path("routes/<int:pk>/sheet/", route_sheet, name="route_sheet"),
    path("routes/<int:pk>/candidates/", route_candidates, name="route_candidates"),
    path("routes/<int:pk>/stops/", route_stop_add, name="route_stop_add"),
    path("routes/<int:pk>/stops/<int:stop_pk>/move/", route_stop_move, name="route_stop_move"),
    path(
        "routes/<int:pk>/stops/<int:stop_pk>/remove/",
        route_stop_remove,
        name="route_stop_remove",
    ),
]
