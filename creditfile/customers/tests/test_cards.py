"""The printable customer card PDF (R-13): /customers/<pk>/card.pdf."""

import io
from datetime import date
from decimal import Decimal
from urllib.parse import unquote

import pytest
import time_machine
from django.urls import reverse
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4

from creditfile.customers.cards import build_customer_card
from creditfile.customers.models import (
    BankAccount,
    BusinessStatus,
    ChannelType,
    Characteristics,
    Competitor,
    Contact,
    CustomerNature,
    FinancialStatement,
    Guarantee,
    Industry,
    KeyPerson,
    Ownership,
    Region,
    TradingStatus,
)
from creditfile.customers.testing import make_customer

NOW = "2026-03-16 10:30 +08:00"
LONG_TEXT = "该经销商在华东地区拥有稳定的二级分销网络，覆盖上海、苏州、无锡等主要城市。" * 12
PRIVATE = {
    "birthday": date(1971, 8, 23),
    "mobile": "13987654321",
    "personality": "性格豪爽喜欢喝酒",
    "hobbies": "周末打高尔夫球",
    "family": "妻子在银行工作",
    "education": "工商管理博士",
}


def entry(model, code, **fields):
    """Reference data may already be loaded by the migrations."""
    return model.objects.get_or_create(code=code, defaults=fields)[0]


def full_customer(owner, kind, name):
    """A customer with Chinese data in every section of the card."""
    province = entry(Region, "320000", name="江苏省", level=1)
    city = entry(Region, "320500", name="苏州市", parent=province, level=2)
    county = entry(Region, "320506", name="吴中区", parent=city, level=3)
    customer = make_customer(
        name,
        owner=owner,
        kind=kind,
        short_name="华东机电",
        registered_address="江苏省苏州市吴中区木渎镇金枫南路1258号",
        office_address="江苏省苏州市吴中区宝带西路88号东吴科技大厦15楼",
        office_address_verified=True,
        ownership=entry(Ownership, "private", name="私营企业"),
        organisation_form="limited",
        business_scope="机电设备、五金交电、电线电缆的批发与零售；" * 6,
        registered_capital=Decimal("1234567.89"),
        legal_representative="王建国",
        chairman="王建国",
        general_manager="李晓明",
        established_on=date(2008, 5, 12),
        issuing_authority="苏州市吴中区市场监督管理局",
        first_trade_on=date(2015, 3, 1),
        employees=168,
        annual_sales=Decimal("86000000"),
        phone="0512-66881234",
        fax="0512-66881235",
        email="office@hdjd.example.cn",
        postcode="215100",
        industry=entry(Industry, "wholesale", name="批发业"),
        channel_type=entry(ChannelType, "agent", name="代理商"),
        nature=entry(CustomerNature, "company", name="一般企业"),
        region=county,
        volume_grade="key",
        credit_grade="A",
        lifecycle="active",
    )
    section = {"customer": customer, "source": "sales"}
    Contact.objects.create(
        **section, name="赵丽华", title="采购经理", phone="0512-66881236", is_primary=True
    )
    Contact.objects.create(
        **section, name="孙志强", title="财务总监", mobile="13812345678", is_emergency=True
    )
    Contact.objects.create(**section, name="周小燕", title="文员", mobile="13812345679")
    KeyPerson.objects.create(**section, name="王建国", role="legal_rep", title="董事长", **PRIVATE)
    BankAccount.objects.create(
        **section,
        bank_name="中国工商银行",
        branch="苏州吴中支行",
        account_name=name,
        account_number="1102020109000123456",
        is_primary=True,
    )
    FinancialStatement.objects.create(
        **section,
        period_end=date(2025, 12, 31),
        audited=True,
        cash=Decimal("2000000"),
        accounts_receivable=Decimal("5000000"),
        inventory=Decimal("3000000"),
        current_assets=Decimal("12000000"),
        total_assets=Decimal("30000000"),
        current_liabilities=Decimal("8000000"),
        total_liabilities=Decimal("18000000"),
        equity=Decimal("12000000"),
        revenue=Decimal("60000000"),
        cost_of_sales=Decimal("45000000"),
        operating_profit=Decimal("6000000"),
        net_profit=Decimal("4500000"),
    )
    Guarantee.objects.create(
        **section,
        kind="mortgage",
        guarantor="王建国",
        description="苏州市吴中区厂房一处（苏房权证字第0012345号）",
        value=Decimal("5000000"),
        valid_from=date(2025, 1, 1),
        valid_until=date(2027, 12, 31),
    )
    Characteristics.objects.create(
        **section,
        service_area="苏南地区及上海西部",
        sales_capacity=LONG_TEXT,
        potential="有望成为华东区域总代理",
        staff_count=168,
        sales_scale=Decimal("86000000"),
        purchasing_pattern="由总经理与采购经理共同决定，大宗采购需董事会批准",
        needs="希望获得更长的账期和区域独家代理权",
        business_trend="growing",
    )
    BusinessStatus.objects.create(
        **section,
        current_results="本年度销售额同比增长百分之十五",
        relations_with_us="合作八年，年采购额约一千二百万元",
        cooperation_attitude="good",
    )
    Competitor.objects.create(
        **section,
        name="上海电气销售有限公司",
        mode="区域代理",
        annual_amount=Decimal("3000000"),
        payment_terms="月结三十天",
    )
    TradingStatus.objects.create(
        **section,
        sales_activity="每月稳定下单两到三次",
        credit_status="付款及时，无逾期记录",
        trade_terms="月结六十天，信用额度五百万元",
    )
    return customer


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def fetch(client, user, customer, query=""):
    client.force_login(user)
    return client.get(reverse("customers:card_pdf", args=[customer.pk]) + query)


@pytest.fixture
def distributor(org):
    return full_customer(org.alice, "distributor", "苏州华东机电设备有限公司")


@pytest.fixture
def end_customer(org):
    return full_customer(org.alice, "end_customer", "无锡精工制造股份有限公司")


@time_machine.travel(NOW, tick=False)
def test_it_prints_the_distributor_card_with_chinese_text(client, org, distributor, settings):
    settings.COMPANY_NAME = "江南机电集团有限公司"

    response = fetch(client, org.alice, distributor)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    for expected in (
        "江南机电集团有限公司",
        "经销商档案卡",
        f"卡号 {distributor.pk:08d}",
        "打印日期：2026-03-16",
        "苏州华东机电设备有限公司",
        "统一社会信用代码",
        distributor.uscc,
        "赵丽华",
        "孙志强",
        "¥1,234,567.89",
        "江苏省苏州市吴中区",
        "流动比率",
        "经销商经营特征",
        "竞争对手",
        "上海电气销售有限公司",
        "付款及时，无逾期记录",
        "填表人",
        "审核人",
        "第 1 页 共",
        "打印人：Alice",
        "2026-03-16 10:30",
    ):
        assert expected in text, expected


@time_machine.travel(NOW, tick=False)
def test_it_prints_the_end_customer_card_without_distributor_sections(client, org, end_customer):
    response = fetch(client, org.alice, end_customer)

    text = pdf_text(response.content)
    assert "终端客户档案卡" in text
    assert "无锡精工制造股份有限公司" in text
    assert "采购决策与需求" in text
    assert "希望获得更长的账期" in text
    assert "经销商经营特征" not in text
    assert "竞争对手" not in text
    assert "上海电气销售有限公司" not in text


@time_machine.travel(NOW, tick=False)
def test_it_lets_the_query_choose_the_card(client, org, end_customer):
    text = pdf_text(fetch(client, org.alice, end_customer, "?kind=distributor").content)

    assert "经销商档案卡" in text
    assert "经销商经营特征" in text


def test_it_rejects_an_unknown_card_kind(client, org, end_customer):
    response = fetch(client, org.alice, end_customer, "?kind=supplier")

    assert response.status_code == 400
    assert "kind" in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_it_is_an_a4_pdf_with_the_font_embedded(client, org, distributor):
    reader = PdfReader(io.BytesIO(fetch(client, org.alice, distributor).content))

    assert len(reader.pages) >= 2
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(A4[0], abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(A4[1], abs=0.5)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant.get("/FontDescriptor")
        if descriptor and "/FontFile2" in descriptor.get_object():
            embedded.append(str(font["/BaseFont"]))
    assert embedded and all("WenQuanYi" in name for name in embedded)


@time_machine.travel(NOW, tick=False)
def test_it_never_prints_key_person_private_data(org, distributor):
    text = pdf_text(build_customer_card(distributor, user=org.cathy))

    assert "王建国" in text
    for private in (
        "13987654321",
        "1971-08-23",
        "性格豪爽",
        "高尔夫",
        "妻子在银行",
        "工商管理博士",
    ):
        assert private not in text
    for private_label in ("出生日期", "兴趣爱好", "家庭情况", "性格特点", "学历"):
        assert private_label not in text


@time_machine.travel(NOW, tick=False)
def test_it_shows_a_dash_for_empty_fields_and_what_is_missing(org):
    customer = make_customer("空白档案测试有限公司", owner=org.alice, kind="distributor")

    text = pdf_text(build_customer_card(customer, user=org.alice))

    assert "—" in text
    assert "档案完整度" in text
    assert "关键人物" in text and "往来银行" in text
    assert "暂无财务报表" in text


def test_it_names_the_file_in_chinese(client, org, distributor):
    response = fetch(client, org.alice, distributor)

    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert f'filename="customer-card-{distributor.pk:08d}.pdf"' in disposition
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == "客户档案卡-苏州华东机电设备有限公司.pdf"


def test_it_lets_the_department_manager_and_credit_staff_print(client, org, distributor):
    assert fetch(client, org.mary, distributor).status_code == 200
    assert fetch(client, org.carl, distributor).status_code == 200


def test_it_hides_another_reps_customer(client, org, distributor):
    # A URL naming a customer one may not read: the stub, 403 (access/policy.py).
    assert fetch(client, org.bob, distributor).status_code == 403
    assert fetch(client, org.walt, distributor).status_code == 403


def test_it_sends_anonymous_users_to_login(client, distributor):
    url = reverse("customers:card_pdf", args=[distributor.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
def test_it_runs_long_lists_and_text_over_pages_repeating_the_header(org, distributor):
    Characteristics.objects.filter(customer=distributor).update(sales_capacity=LONG_TEXT * 30)
    for i in range(70):
        Contact.objects.create(
            customer=distributor,
            source="sales",
            name=f"应急人{i:02d}",
            mobile="13812345678",
            is_emergency=True,
        )

    reader = PdfReader(io.BytesIO(build_customer_card(distributor, user=org.alice)))

    pages = [page.extract_text() for page in reader.pages]
    contact_pages = [text for text in pages if "应急人" in text]
    assert len(contact_pages) >= 2
    assert all("电子邮件" in text for text in contact_pages)
    assert "应急人69" in "".join(pages)
    assert sum("该经销商在华东地区" in text for text in pages) >= 2
