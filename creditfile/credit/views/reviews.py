"""Reviews due / overdue 复评队列, one review with its 年审评价报告, its actions (R-23, R-26).

Thin views: the rules (who may, in which state, what the report contains) live in
credit/services/reviews.py. A review of a customer the user cannot see is a 404.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from creditfile.access.services import audit
from creditfile.credit.choices import ReviewKind, ReviewState
from creditfile.credit.models import AnnualReviewReport
from creditfile.credit.services import reviews as service
from creditfile.credit.services.errors import WorkflowError
from creditfile.customers.services.visibility import get_customer_for

PER_PAGE = 50


class ReviewFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("复评类型"),
        required=False,
        choices=[("", gettext_lazy("全部"))] + list(ReviewKind.choices),
    )
    state = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("", gettext_lazy("未完成（待复评、进行中）")), ("all", gettext_lazy("全部"))]
        + list(ReviewState.choices),
    )
    overdue = forms.BooleanField(label=gettext_lazy("只看逾期"), required=False)

    def apply(self, reviews, today):
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        state = data.get("state") or ""
        if state == "":
            reviews = reviews.filter(state__in=service.OPEN)
        elif state != "all":
            reviews = reviews.filter(state=state)
        if data.get("kind"):
            reviews = reviews.filter(kind=data["kind"])
        if data.get("overdue"):
            reviews = reviews.filter(state__in=service.OPEN, due_on__lt=today)
        return reviews


class OutcomeForm(forms.Form):
    outcome = forms.CharField(
        label=gettext_lazy("复核结论"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("取消原因"), max_length=300)


class PrepareForm(forms.Form):
    summary = forms.CharField(
        label=gettext_lazy("评价意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
    )


class RequestForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("复评原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=300
    )
    due_on = forms.DateField(
        label=gettext_lazy("完成期限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy("留空为两周后"),
    )


def _refused(request: HttpRequest, error: WorkflowError) -> None:
    """A refused action: the wrong role is a 403, anything else a message on the page."""
    if error.code == "forbidden":
        raise PermissionDenied(str(error.message))
    messages.error(request, str(error.message))


def _application_url(application) -> str | None:
    """The application's page, if the applications screens provide one."""
    for name in ("credit:application", "credit:application_detail"):
        try:
            return reverse(name, args=[application.pk])
        except NoReverseMatch:
            continue
    return None


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = ReviewFilterForm(request.GET or None)
    reviews = form.apply(service.visible_reviews(request.user), today).order_by("due_on", "id")
    page = Paginator(reviews, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "today": today,
        "overdue_count": service.overdue_reviews(request.user, today).count(),
        "open_count": service.reviews_due(request.user, today).count(),
    }
    return render(request, "credit/reviews/review_list.html", context)


def _facts_rows(report: AnnualReviewReport) -> list[tuple[str, str]]:
    """The report's facts as label/value rows; unknown values read '—'."""
    dash = "—"
    facts = report.facts or {}
    payments = facts.get("payment_summary") or {}
    complaints = facts.get("complaints")
    rows = [
        (_("年度"), str(report.year)),
        (_("年度销售额（元）"), f"{report.sales_amount:,.2f}"),
        (_("年度回款额（元）"), f"{report.payments_amount:,.2f}"),
        (
            _("平均逾期天数"),
            dash if report.average_days_late is None else str(report.average_days_late),
        ),
        (_("最长逾期天数"), dash if report.max_days_late is None else str(report.max_days_late)),
        (_("逾期超过30天次数"), str(payments.get("times_late_over_30", dash))),
        (_("逾期超过90天次数"), str(payments.get("times_late_over_90", dash))),
        (_("付款记录截止日"), payments.get("period_end") or _("无付款记录汇总")),
        (_("信用事件数（重大事项）"), str(report.incidents)),
        (
            _("投诉数"),
            dash + " " + _("（客户服务模块上线后提供）") if complaints is None else str(complaints),
        ),
        (_("档案变更数"), str(report.file_changes)),
    ]
    return rows


@require_GET
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = service.get_review_for(request.user, pk)
    report = AnnualReviewReport.objects.filter(review=review).first()
    applications = list(review.applications.order_by("-created_at", "-id"))
    for application in applications:
        application.url = _application_url(application)
    open_application = service.open_application(review)
    is_open = review.state in service.OPEN
    user = request.user
    can_change = user.has_perm("credit.change_creditreview")
    context = {
        "review": review,
        "report": report,
        "facts_rows": _facts_rows(report) if report else [],
        "incidents": (report.facts or {}).get("incidents", []) if report else [],
        "changes_by_section": (report.facts or {}).get("file_changes_by_section", {})
        if report
        else {},
        "applications": applications,
        "open_application": open_application,
        "today": timezone.localdate(),
        "can_prepare": is_open
        and review.kind == ReviewKind.ANNUAL
        and open_application is None
        and user.has_perm("credit.add_annualreviewreport"),
        "can_submit": is_open and report is not None and open_application is None and can_change,
        "can_complete": is_open and review.kind != ReviewKind.ANNUAL and can_change,
        "can_cancel": is_open and open_application is None and can_change,
        "prepare_form": PrepareForm(initial={"summary": report.summary if report else ""}),
        "outcome_form": OutcomeForm(),
        "cancel_form": CancelForm(),
    }
    return render(request, "credit/reviews/review_detail.html", context)


@require_POST
def review_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    review = service.get_review_for(request.user, pk)
    form = PrepareForm(request.POST)
    summary = form.cleaned_data["summary"] if form.is_valid() else ""
    try:
        service.prepare_annual_report(review, request.user, summary=summary)
    except WorkflowError as error:
        _refused(request, error)
    else:
        messages.success(request, _("年审评价报告已编制。"))
    return redirect("credit:review", pk=review.pk)


@require_POST
def review_submit(request: HttpRequest, pk: int) -> HttpResponse:
    review = service.get_review_for(request.user, pk)
    report = AnnualReviewReport.objects.filter(review=review).first()
    if report is None:
        messages.error(request, _("请先编制年审评价报告。"))
        return redirect("credit:review", pk=review.pk)
    try:
        application = service.submit_annual_report(report, request.user)
    except WorkflowError as error:
        _refused(request, error)
    else:
        messages.success(
            request,
            _("已生成年审申请 %(number)s，等待财务评分。") % {"number": application.number},
        )
    return redirect("credit:review", pk=review.pk)


@require_POST
def review_complete(request: HttpRequest, pk: int) -> HttpResponse:
    review = service.get_review_for(request.user, pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写复核结论。"))
        return redirect("credit:review", pk=review.pk)
    try:
        service.complete_monitoring_review(review, request.user, form.cleaned_data["outcome"])
    except WorkflowError as error:
        _refused(request, error)
    else:
        messages.success(request, _("复评已完成。"))
    return redirect("credit:review", pk=review.pk)


@require_POST
def review_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    review = service.get_review_for(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请说明取消原因。"))
        return redirect("credit:review", pk=review.pk)
    try:
        service.cancel_review(review, request.user, form.cleaned_data["reason"])
    except WorkflowError as error:
        _refused(request, error)
    else:
        messages.success(request, _("复评已取消。"))
    return redirect("credit:review", pk=review.pk)


@require_http_methods(["GET", "POST"])
def review_request(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = get_customer_for(request.user, customer_pk)
    if not service.can_request(request.user):
        raise PermissionDenied
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = service.request_review(
                customer,
                request.user,
                form.cleaned_data["reason"],
                due_on=form.cleaned_data.get("due_on"),
            )
        except WorkflowError as error:
            _refused(request, error)
        else:
            messages.success(request, _("已申请临时复评。"))
            return redirect("credit:review", pk=review.pk)
    return render(
        request, "credit/reviews/review_request.html", {"customer": customer, "form": form}
    )


def customer_panel_context(user, customer) -> dict:
    """What `credit/reviews/_customer_panel.html` needs; the customer's credit tab includes it."""
    return {
        "customer": customer,
        "customer_reviews": service.visible_reviews(user)
        .filter(customer=customer)
        .order_by("-due_on", "-id")[:50],
        "can_request_review": service.can_request(user),
        "today": timezone.localdate(),
    }


@require_GET
def customer_reviews(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """The panel alone, for htmx (hx-get) from the customer's credit tab."""
    customer = get_customer_for(request.user, customer_pk)
    audit.record_view(customer, section="reviews")
    return render(
        request,
        "credit/reviews/_customer_panel.html",
        customer_panel_context(request.user, customer),
    )


urlpatterns = [
    path("reviews/", review_queue, name="reviews"),
    path("reviews/<int:pk>/", review_detail, name="review"),
    path("reviews/<int:pk>/report/", review_prepare, name="review_prepare"),
    path("reviews/<int:pk>/submit/", review_submit, name="review_submit"),
    path("reviews/<int:pk>/complete/", review_complete, name="review_complete"),
    path("reviews/<int:pk>/cancel/", review_cancel, name="review_cancel"),
    path("customers/<int:customer_pk>/reviews/", customer_reviews, name="customer_reviews"),
    path("customers/<int:customer_pk>/reviews/request/", review_request, name="review_request"),
]
