"""Customers, their contacts and attachment catalogue over the REST API (/api/v1/customers).

The API is another door to the same rules: who sees what comes from services/visibility.py
(hidden customers are a 404, read-only roles get a 403), field rules from the models'
clean(), and every write is logged in the change history under the calling user.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from creditfile.core import roles
from creditfile.core.choices import Source
from creditfile.core.history import acting_as
from creditfile.core.models import Department
from creditfile.customers.choices import (
    Confidentiality,
    CustomerKind,
    Lifecycle,
    OrganisationForm,
    VolumeGrade,
)
from creditfile.customers.filters import CustomerFilterForm
from creditfile.customers.models import (
    Attachment,
    ChannelType,
    Contact,
    Customer,
    CustomerNature,
    Industry,
    LocationType,
    Ownership,
    Region,
)
from creditfile.customers.services import file_edits
from creditfile.customers.services.visibility import get_customer_for, visible_customers

router = Router()

# Records created through the API without a stated source, as in the Excel import.
DEFAULT_SOURCE = Source.INTERNAL
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


# -- money: exact decimal strings in both directions ---------------------------------------


def _no_float(value):
    # A JSON number arrives as a float and may already have lost cents; make callers send text.
    if isinstance(value, float):
        raise ValueError(_('金额请以字符串传入，例如 "1000000.00"。'))
    return value


_MONEY_SCHEMA = {
    "type": "string",
    "format": "decimal",
    "pattern": r"^-?\d{1,16}(\.\d{1,2})?$",
    "examples": ["5000000.00"],
}

Money = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str),
    WithJsonSchema(_MONEY_SCHEMA),
]


# -- schemas ------------------------------------------------------------------------------

# Dictionary foreign keys are written and read by their code.
DICTIONARY_FIELDS = {
    "ownership": Ownership,
    "industry": Industry,
    "channel_type": ChannelType,
    "location_type": LocationType,
    "nature": CustomerNature,
    "region": Region,
}


def _code(obj) -> str | None:
    return obj.code if obj is not None else None


class CustomerOut(Schema):
    id: int
    name: str
    short_name: str
    uscc: str | None
    kind: str
    is_international: bool
    country: str
    currency: str
    registered_address: str
    office_address: str
    office_address_verified: bool
    ownership: str | None = Field(None, description="企业类型/所有制代码")
    organisation_form: str
    business_scope: str
    registered_capital: Money | None
    legal_representative: str
    chairman: str
    general_manager: str
    established_on: date | None
    operating_term_until: date | None
    licence_valid_until: date | None
    issuing_authority: str
    first_trade_on: date | None
    total_assets: Money | None
    employees: int | None
    annual_sales: Money | None
    phone: str
    fax: str
    email: str
    website: str
    postcode: str
    industry: str | None = Field(None, description="行业代码")
    channel_type: str | None = Field(None, description="渠道类型代码")
    location_type: str | None = Field(None, description="地段类型代码")
    nature: str | None = Field(None, description="客户性质代码")
    region: str | None = Field(None, description="行政区划代码（GB/T 2260）")
    volume_grade: str
    credit_grade: str
    owner: str | None = Field(None, description="负责销售代表的用户名")
    department: str | None = Field(None, description="所属部门代码")
    confidentiality: str = Field(..., description="保密级别：company / department / personal")
    lifecycle: str
    lifecycle_reason: str
    source: str
    source_date: date
    verified: bool
    file_updated_at: datetime
    last_visit_on: date | None
    completeness: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_ownership(obj):
        return _code(obj.ownership)

    @staticmethod
    def resolve_industry(obj):
        return _code(obj.industry)

    @staticmethod
    def resolve_channel_type(obj):
        return _code(obj.channel_type)

    @staticmethod
    def resolve_location_type(obj):
        return _code(obj.location_type)

    @staticmethod
    def resolve_nature(obj):
        return _code(obj.nature)

    @staticmethod
    def resolve_region(obj):
        return _code(obj.region)

    @staticmethod
    def resolve_owner(obj):
        return obj.owner.username if obj.owner_id else None

    @staticmethod
    def resolve_department(obj):
        return _code(obj.department)

    @staticmethod
    def resolve_verified(obj):
        return obj.is_verified


class CustomerPatch(Schema):
    """Only the fields sent are changed; lifecycle and credit grade have their own procedures."""

    name: str | None = None
    short_name: str | None = None
    uscc: str | None = Field(None, description="18位，按GB 32100-2015校验")
    kind: CustomerKind | None = None
    is_international: bool | None = None
    country: str | None = None
    currency: str | None = None
    registered_address: str | None = None
    office_address: str | None = None
    office_address_verified: bool | None = None
    ownership: str | None = None
    organisation_form: OrganisationForm | None = None
    business_scope: str | None = None
    registered_capital: Money | None = None
    legal_representative: str | None = None
    chairman: str | None = None
    general_manager: str | None = None
    established_on: date | None = None
    operating_term_until: date | None = None
    licence_valid_until: date | None = None
    issuing_authority: str | None = None
    first_trade_on: date | None = None
    total_assets: Money | None = None
    employees: int | None = Field(None, ge=0)
    annual_sales: Money | None = None
    phone: str | None = None
    fax: str | None = None
    email: str | None = None
    website: str | None = None
    postcode: str | None = None
    industry: str | None = None
    channel_type: str | None = None
    location_type: str | None = None
    nature: str | None = None
    region: str | None = None
    volume_grade: VolumeGrade | None = None
    owner: str | None = Field(None, description="负责销售代表的用户名")
    department: str | None = Field(None, description="所属部门代码；默认取负责人的部门")
    confidentiality: Confidentiality | None = Field(
        None, description="保密级别；默认有负责人时为 personal，否则 department"
    )
    source: Source | None = None
    source_date: date | None = None


class CustomerIn(CustomerPatch):
    name: str = Field(..., min_length=1, max_length=200)


class CustomerFilters(Schema):
    """The web list's filters (customers/filters.py), with codes and usernames instead of ids."""

    q: str = Field("", description="名称片段、拼音/首字母、统一社会信用代码或电话")
    lifecycle: Lifecycle | None = None
    credit_grade: Literal["A", "B", "C", "D", "none"] | None = Field(
        None, description="信用等级；none 表示未评级"
    )
    region: str | None = Field(None, description="行政区划代码，含下级地区")
    industry: str | None = Field(None, description="行业代码")
    owner: str | None = Field(None, description="负责销售代表的用户名；me 表示自己")
    department: str | None = Field(None, description="部门代码，含下级部门")
    volume_grade: VolumeGrade | None = None
    stale: bool | None = Field(None, description="true：档案需更新；false：已及时更新")
    sort: str = Field(
        "", description="name、credit_grade、lifecycle、completeness、updated；前加 - 为倒序"
    )


class ContactOut(Schema):
    id: int
    name: str
    title: str
    department: str
    phone: str
    mobile: str
    email: str
    is_primary: bool
    is_emergency: bool
    notes: str
    source: str
    source_date: date
    verified: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_verified(obj):
        return obj.is_verified


class ContactPatch(Schema):
    name: str | None = None
    title: str | None = None
    department: str | None = None
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    is_primary: bool | None = None
    is_emergency: bool | None = None
    notes: str | None = None
    source: Source | None = None
    source_date: date | None = None


class ContactIn(ContactPatch):
    name: str = Field(..., min_length=1, max_length=50)


class AttachmentOut(Schema):
    id: int
    category: str
    title: str
    document_date: date
    original_name: str
    size: int
    content_type: str
    download_url: str

    @staticmethod
    def resolve_download_url(obj):
        return attachment_download_url(obj)


class ErrorItem(Schema):
    field: str
    message: str


class ValidationErrorOut(Schema):
    detail: list[ErrorItem]


class MessageOut(Schema):
    detail: str


# -- helpers ------------------------------------------------------------------------------


def validation_error_details(exc: ValidationError) -> list[dict]:
    """[{"field", "message"}] for a Django ValidationError, one item per message."""
    if not hasattr(exc, "error_dict"):
        return [{"field": NON_FIELD_ERRORS, "message": str(m)} for m in exc.messages]
    return [
        {"field": field, "message": str(message)}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def attachment_download_url(attachment) -> str:
    try:
        return reverse(
            "customers:attachment_download", args=[attachment.customer_id, attachment.pk]
        )
    except NoReverseMatch:
        return f"/customers/{attachment.customer_id}/attachments/{attachment.pk}/"


def _require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


def _lookup_entry(model):
    def lookup(code):
        entry = model.objects.filter(code=code).first()
        if entry is None or not getattr(entry, "active", True):
            raise LookupError(_("代码“%(code)s”不存在或已停用。") % {"code": code})
        return entry

    return lookup


def _lookup_user(username):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise LookupError(_("用户“%(name)s”不存在或已停用。") % {"name": username})
    return user


def _lookup_department(code):
    department = Department.objects.filter(code=code).first()
    if department is None:
        raise LookupError(_("部门代码“%(code)s”不存在。") % {"code": code})
    return department


CUSTOMER_LOOKUPS = {
    **{name: _lookup_entry(model) for name, model in DICTIONARY_FIELDS.items()},
    "owner": _lookup_user,
    "department": _lookup_department,
}


def _sent(payload: Schema) -> dict:
    """The fields the caller actually sent, with their parsed (not serialised) values."""
    data = {}
    for name in payload.model_fields_set:
        value = getattr(payload, name)
        data[name] = value.value if isinstance(value, Enum) else value
    return data


def _assign(instance, data: dict, lookups: dict | None = None) -> dict:
    """Set the sent fields on `instance`, resolving codes and usernames. Returns errors."""
    lookups = lookups or {}
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if name in lookups and value is not None:
            try:
                value = lookups[name](value)
            except LookupError as exc:
                errors[name] = [str(exc.args[0])]
                continue
        elif value is None:
            field = instance._meta.get_field(name)
            if not field.null and isinstance(field, models.CharField | models.TextField):
                value = ""
        setattr(instance, name, value)
    return errors


def _validate(instance, lookup_errors: dict) -> None:
    """full_clean(), reporting lookup problems and model rules together."""
    errors = dict(lookup_errors)
    try:
        instance.full_clean(exclude=list(lookup_errors))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _save_customer(user, customer: Customer) -> None:
    """Save through the file's own rule (re-stamping, re-checking edit rights after the save).

    Two callers racing for one USCC get past full_clean() together; the database's unique
    index stops the second, and that is reported on the field like the ordinary clash.
    """
    try:
        file_edits.save_customer(customer, user)
    except IntegrityError as exc:
        clash = Customer.objects.filter(uscc=customer.uscc).exclude(pk=customer.pk)
        if customer.uscc and clash.exists():
            raise ValidationError({"uscc": [_("该统一社会信用代码已被其他客户使用。")]}) from exc
        raise


def _acting(request):
    return acting_as(user=request.user, label="api", request_id=getattr(request, "id", ""))


def filter_customers(queryset, user, filters: CustomerFilters):
    """Filter, search and order exactly as the web list does, through its own form."""
    data = {
        "q": filters.q,
        "lifecycle": filters.lifecycle.value if filters.lifecycle else "",
        "credit_grade": filters.credit_grade or "",
        "region": filters.region or "",
        "volume_grade": filters.volume_grade.value if filters.volume_grade else "",
        "stale": "" if filters.stale is None else str(int(filters.stale)),
        "sort": filters.sort,
    }
    errors: dict[str, list[str]] = {}
    by_code = {
        "industry": (filters.industry, Industry, "code"),
        "department": (filters.department, Department, "code"),
        "owner": (filters.owner, get_user_model(), "username"),
    }
    for name, (value, model, key) in by_code.items():
        if not value:
            continue
        if name == "owner" and value == "me":
            data[name] = user.pk
            continue
        found = model.objects.filter(**{key: value}).values_list("pk", flat=True).first()
        if found is None:
            errors[name] = [_("“%(value)s”不存在。") % {"value": value}]
        data[name] = found or ""
    form = CustomerFilterForm(data, user=user)
    if not form.is_valid():
        for name, messages in form.errors.items():
            errors.setdefault(name, []).extend(str(m) for m in messages)
    if errors:
        raise ValidationError(errors)
    return form.apply(queryset)


CUSTOMER_RELATED = (
    "ownership",
    "industry",
    "channel_type",
    "location_type",
    "nature",
    "region",
    "owner",
    "department",
)


def _customer_out(user, pk) -> Customer:
    get_customer_for(user, pk)
    return Customer.objects.select_related(*CUSTOMER_RELATED).get(pk=pk)


# -- customers ----------------------------------------------------------------------------


@router.get("", response=list[CustomerOut], summary="客户一览（按可见范围）")
@paginate(PageNumberPagination, page_size=PAGE_SIZE, max_page_size=MAX_PAGE_SIZE)
def list_customers(request, filters: Query[CustomerFilters]):
    _require_perm(request.user, "customers.view_customer")
    queryset = visible_customers(request.user).select_related(*CUSTOMER_RELATED)
    return filter_customers(queryset, request.user, filters)


@router.post(
    "",
    response={201: CustomerOut, 403: MessageOut, 422: ValidationErrorOut},
    summary="新建客户",
)
def create_customer(request, payload: CustomerIn):
    user = request.user
    _require_perm(user, "customers.add_customer")
    data = _sent(payload)
    customer = Customer(entered_by=user, source=DEFAULT_SOURCE)
    # A sales rep files the customers they find: theirs, in their department.
    if "owner" not in data and user.has_role(roles.SALES_REP):
        customer.owner = user
    errors = _assign(customer, data, CUSTOMER_LOOKUPS)
    if "department" not in data:
        customer.department = (customer.owner or user).department
    _validate(customer, errors)
    with _acting(request):
        _save_customer(user, customer)
    return Status(201, _customer_out(user, customer.pk))


@router.get("/{int:customer_id}", response=CustomerOut, summary="客户档案基本信息")
def get_customer(request, customer_id: int):
    _require_perm(request.user, "customers.view_customer")
    return _customer_out(request.user, customer_id)


@router.patch(
    "/{int:customer_id}",
    response={200: CustomerOut, 403: MessageOut, 404: MessageOut, 422: ValidationErrorOut},
    summary="修改客户（只改传入的字段）",
)
def update_customer(request, customer_id: int, payload: CustomerPatch):
    user = request.user
    customer = get_customer_for(user, customer_id, "edit")
    _require_perm(user, "customers.change_customer")
    data = _sent(payload)
    errors = _assign(customer, data, CUSTOMER_LOOKUPS)
    if "owner" in data and "department" not in data and customer.owner is not None:
        customer.department = customer.owner.department
    _validate(customer, errors)
    with _acting(request):
        _save_customer(user, customer)
    return _customer_out(user, customer.pk)


# -- contacts -----------------------------------------------------------------------------


@router.get("/{int:customer_id}/contacts", response=list[ContactOut], summary="联系人")
def list_contacts(request, customer_id: int):
    customer = get_customer_for(request.user, customer_id)
    _require_perm(request.user, "customers.view_contact")
    return list(customer.contact_set.all())


@router.post(
    "/{int:customer_id}/contacts",
    response={201: ContactOut, 403: MessageOut, 404: MessageOut, 422: ValidationErrorOut},
    summary="新增联系人",
)
def create_contact(request, customer_id: int, payload: ContactIn):
    customer = get_customer_for(request.user, customer_id, "edit")
    _require_perm(request.user, "customers.add_contact")
    contact = Contact(customer=customer, entered_by=request.user, source=DEFAULT_SOURCE)
    _validate(contact, _assign(contact, _sent(payload)))
    with _acting(request):
        file_edits.save_record(contact, customer, request.user)
    return Status(201, contact)


@router.patch(
    "/{int:customer_id}/contacts/{int:contact_id}",
    response={200: ContactOut, 403: MessageOut, 404: MessageOut, 422: ValidationErrorOut},
    summary="修改联系人",
)
def update_contact(request, customer_id: int, contact_id: int, payload: ContactPatch):
    customer = get_customer_for(request.user, customer_id, "edit")
    _require_perm(request.user, "customers.change_contact")
    contact = get_object_or_404(Contact, customer=customer, pk=contact_id)
    data = _sent(payload)
    _validate(contact, _assign(contact, data))
    with _acting(request):
        file_edits.save_record(contact, customer, request.user)
    return contact


@router.delete(
    "/{int:customer_id}/contacts/{int:contact_id}",
    response={204: None, 403: MessageOut, 404: MessageOut},
    summary="删除联系人",
)
def delete_contact(request, customer_id: int, contact_id: int):
    customer = get_customer_for(request.user, customer_id, "edit")
    _require_perm(request.user, "customers.delete_contact")
    contact = get_object_or_404(Contact, customer=customer, pk=contact_id)
    with _acting(request):
        file_edits.delete_record(contact)
    return Status(204, None)


# -- attachments --------------------------------------------------------------------------


@router.get(
    "/{int:customer_id}/attachments",
    response=list[AttachmentOut],
    summary="附件目录（下载走网页端的权限检查）",
)
def list_attachments(request, customer_id: int):
    customer = get_customer_for(request.user, customer_id)
    _require_perm(request.user, "customers.view_attachment")
    return list(Attachment.objects.filter(customer=customer).order_by("document_date", "id"))
