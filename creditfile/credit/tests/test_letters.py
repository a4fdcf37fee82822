"""The standard reply letter 回复客户的标准函 (R-25): templates, generation, PDF/DOCX, screens."""

import datetime
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from docx import Document
from docx.oxml.ns import qn
from pypdf import PdfReader

from creditfile.access.models import AuditEvent
from creditfile.access.services.deliveries import stamp_for
from creditfile.core.models import Company
from creditfile.credit.choices import ApplicationState, LetterKind
from creditfile.credit.models import ApplicationStep, LetterTemplate, ReplyLetter
from creditfile.credit.services import approval, workflow
from creditfile.credit.services import letters as letter_rules
from creditfile.credit.services.errors import WorkflowError
from creditfile.credit.testing import walk_to
from creditfile.customers.testing import make_customer

S = ApplicationState
NOW = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NAME = "华信科技有限公司"


@pytest.fixture(autouse=True)
def _frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def company(db):
    company = Company.default()
    company.name = "江南机电股份有限公司"
    company.address = "杭州市西湖区文三路100号"
    company.phone = "0571-88886666"
    company.fax = "0571-88886667"
    company.email = "credit@jiangnan.example"
    company.website = "www.jiangnan.example"
    company.letter_signatory = "信用管理部"
    company.save()
    return company


@pytest.fixture
def customer(org, company):
    return make_customer(NAME, owner=org.alice)


def decided(org, customer, decision: str, **kwargs):
    """An application of 300,000 (grade A, 30 days asked) decided by the credit manager."""
    application = walk_to(org, customer, S.APPROVING)
    approval.decide(application, org.cathy, decision, **kwargs)
    application.refresh_from_db()
    return application


def letter_for(org, application, **kwargs) -> ReplyLetter:
    return letter_rules.generate_letter(application, org.carl, **kwargs)


# --- Wording and formats ------------------------------------------------------------------------


def test_it_explains_payment_terms_in_words():
    assert letter_rules.explain_payment_terms("2/10 n/30") == (
        "2/10 n/30，即自发票日起10天内付款可享受2%的现金折扣，最迟30天内付清全部货款"
    )
    assert letter_rules.explain_payment_terms("1.5/10, net 45") == (
        "1.5/10, net 45，即自发票日起10天内付款可享受1.5%的现金折扣，最迟45天内付清全部货款"
    )
    assert letter_rules.explain_payment_terms("n/60") == "n/60，即自发票日起60天内付清全部货款"
    assert letter_rules.explain_payment_terms("即时清结") == "即时清结（现款现货），不予赊销"


def test_it_formats_amounts_with_separators_and_dates_in_chinese():
    assert letter_rules.money_cn(Decimal("1234567.5")) == "1,234,567.50元"
    assert letter_rules.date_cn(datetime.date(2026, 1, 5)) == "2026年1月5日"
    assert letter_rules.terms_label(Decimal("2.00"), 10, 30) == "2/10 n/30"
    assert letter_rules.terms_label(Decimal("0"), 0, 45) == "n/45"
    assert letter_rules.terms_label(Decimal("0"), 0, 0, cash_on_delivery=True) == "即时清结"


# --- Placeholders -------------------------------------------------------------------------------


def test_it_accepts_every_listed_placeholder_and_literal_braces():
    text = " ".join("{" + name + "}" for name in letter_rules.PLACEHOLDERS) + " {{注}}"
    assert letter_rules.validate_template_text(text) == list(letter_rules.PLACEHOLDERS)
    assert letter_rules.substitute("{{注}} {客户名称}", {"客户名称": NAME}) == "{注} " + NAME


def test_it_names_the_unknown_placeholder():
    with pytest.raises(ValidationError) as caught:
        letter_rules.validate_template_text("尊敬的{客户名}：您的额度为{批准额度}。")
    assert "{客户名}" in caught.value.messages[0]
    assert "{批准额度}" not in caught.value.messages[0].split("。")[0]


@pytest.mark.parametrize("text", ["{% debug %}", "{{ request.user }} {客户名称", "额度}"])
def test_it_refuses_template_syntax_and_stray_braces(text):
    with pytest.raises(ValidationError):
        letter_rules.validate_template_text(text)


def test_it_never_executes_or_rescans_what_it_substitutes():
    values = {"客户名称": "{日期}{{ settings.SECRET_KEY }}", "日期": "2026年11月23日"}
    out = letter_rules.substitute("{客户名称}/{{ settings.SECRET_KEY }}/｛日期｝", values)
    assert out == "{日期}{{ settings.SECRET_KEY }}/{ settings.SECRET_KEY }/2026年11月23日"


def test_it_drops_a_line_whose_placeholders_came_out_empty():
    out = letter_rules.substitute("{公司名称}\n{落款}\n{日期}", {"公司名称": "甲", "日期": "乙"})
    assert out == "甲\n乙"


def test_the_default_templates_use_only_known_placeholders(db):
    templates = LetterTemplate.objects.all()
    assert sorted(t.kind for t in templates) == sorted(LetterKind.values)
    for template in templates:
        letter_rules.validate_template_text(template.subject)
        used = letter_rules.validate_template_text(template.body)
        assert {"客户名称", "公司名称", "日期"} <= set(used), template.kind


# --- Each kind ----------------------------------------------------------------------------------


def test_it_writes_the_approval_letter_with_amount_grade_terms_and_date(org, customer, company):
    application = decided(org, customer, "approve")
    assert letter_rules.letter_kind_for(application) == LetterKind.APPROVED

    letter = letter_for(org, application)

    assert letter.kind == LetterKind.APPROVED
    assert letter.subject == f"关于{NAME}信用额度申请的批复函"
    body = letter.body
    assert body.startswith(f"{NAME}：\n")
    assert "同意给予贵公司信用额度人民币300,000.00元，信用等级为A级（优良）" in body
    assert "信用期限为30天" in body
    assert (
        "付款条件为2/10 n/30，即自发票日起10天内付款可享受2%的现金折扣，最迟30天内付清全部货款"
        in body
    )
    assert "有效期至下一次年度复评时止" in body
    assert f"申请编号：{application.number}" in body
    assert body.endswith("江南机电股份有限公司\n信用管理部\n2026年11月23日")


def test_it_writes_the_partial_approval_with_both_amounts_and_the_reason(org, customer):
    application = decided(
        org, customer, "approve_lower", limit=Decimal("200000"), reason="近12个月有两次逾期付款。"
    )
    assert application.state == S.PARTLY_APPROVED

    body = letter_for(org, application).body

    assert "申请额度为人民币300,000.00元" in body
    assert "同意给予贵公司信用额度人民币200,000.00元" in body
    assert "未能全额满足贵公司申请的原因是：近12个月有两次逾期付款。" in body


def test_it_writes_the_rejection_with_the_approvers_reason(org, customer):
    application = decided(org, customer, "reject", reason="资产负债率超过80%")

    letter = letter_for(org, application)

    assert letter.kind == LetterKind.REJECTED
    assert "暂不能给予贵公司赊销信用额度，原因是：资产负债率超过80%。" in letter.body
    assert "申请额度人民币300,000.00元" in letter.body


def test_it_lists_what_the_customer_must_supply(org, customer):
    application = walk_to(org, customer, S.APPROVING)
    workflow.request_more_info(application, org.cathy, "1. 2025年度审计报告；\n2. 法人授权委托书。")

    letter = letter_for(org, application)

    assert letter.kind == LetterKind.MORE_INFO
    assert "\n1. 2025年度审计报告；\n2. 法人授权委托书。\n" in letter.body


def test_a_granted_line_gives_its_own_terms_and_validity(org, customer):
    application = walk_to(org, customer, S.APPROVED)
    workflow.grant(application, org.carl, valid_until=datetime.date(2027, 11, 22))
    application.refresh_from_db()
    assert letter_rules.letter_kind_for(application) == LetterKind.APPROVED

    body = letter_for(org, application).body

    assert "有效期至2027年11月22日止" in body
    assert "人民币300,000.00元" in body


def test_a_granted_line_below_the_request_answers_with_the_partial_letter(org, customer):
    application = decided(org, customer, "approve_lower", limit=Decimal("100000"), reason="试用期")
    workflow.grant(application, org.carl)
    application.refresh_from_db()
    assert letter_rules.letter_kind_for(application) == LetterKind.PARTLY_APPROVED


def test_the_letter_keeps_its_text_and_the_step_is_recorded(org, customer):
    application = decided(org, customer, "approve")
    letter = letter_for(org, application)
    LetterTemplate.objects.filter(kind=LetterKind.APPROVED).update(body="{客户名称}：改了")

    letter.refresh_from_db()
    assert "同意给予贵公司信用额度" in letter.body
    step = ApplicationStep.objects.filter(application=application, action="letter").get()
    assert (step.actor, step.from_state, step.to_state) == (org.carl, S.APPROVED, S.APPROVED)
    assert letter.subject in step.comment


@pytest.mark.parametrize("state", [S.DRAFT, S.SUBMITTED, S.EVALUATING, S.APPROVING])
def test_it_refuses_a_letter_before_the_decision(org, customer, state):
    application = walk_to(org, customer, state)
    with pytest.raises(WorkflowError) as caught:
        letter_for(org, application)
    assert caught.value.code == "state"
    assert not ReplyLetter.objects.exists()


def test_it_refuses_a_letter_of_the_wrong_kind(org, customer):
    application = decided(org, customer, "reject", reason="资料不实")
    with pytest.raises(WorkflowError) as caught:
        letter_for(org, application, kind=LetterKind.APPROVED)
    assert (caught.value.code, caught.value.field) == ("invalid", "kind")


def test_sales_cannot_generate_letters(org, customer):
    application = decided(org, customer, "approve")
    with pytest.raises(WorkflowError) as caught:
        letter_rules.generate_letter(application, org.alice)
    assert caught.value.code == "forbidden"


def test_a_broken_template_is_a_configuration_error_not_a_crash(org, customer):
    LetterTemplate.objects.filter(kind=LetterKind.APPROVED).update(body="{客户}")
    application = decided(org, customer, "approve")
    with pytest.raises(WorkflowError) as caught:
        letter_for(org, application)
    assert caught.value.code == "config"
    assert "{客户}" in str(caught.value.message)


# --- PDF and DOCX -------------------------------------------------------------------------------


def test_the_pdf_is_a4_on_letterhead_with_the_chinese_text_embedded(org, customer):
    letter = letter_for(org, decided(org, customer, "approve"))

    content = letter_rules.letter_pdf(letter, stamp_for(org.cathy))

    reader = PdfReader(io.BytesIO(content))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert NAME in text
    assert "300,000.00元" in text
    assert "江南机电股份有限公司" in text
    assert "0571-88886666" in text
    assert "2026年11月23日" in text
    assert "打印人" not in text  # internal print stamp stays off a letter to a customer
    assert "内部资料" not in text  # and so does the diagonal internal watermark,
    assert "本文件由 Cathy（cathy） 于" in text  # leaving a quiet line naming the copy's maker
    fonts = page["/Resources"]["/Font"]
    assert fonts
    for font in fonts.values():
        font = font.get_object()
        assert "WenQuanYi" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"]  # embedded, not looked up on the reader


def test_a_letter_stays_chinese_when_the_user_works_in_english(org, customer):
    from django.utils import translation

    with translation.override("en"):
        letter = letter_for(org, decided(org, customer, "approve"))
        stamp = stamp_for(org.cathy)
        text = PdfReader(io.BytesIO(letter_rules.letter_pdf(letter, stamp))).pages[0].extract_text()
        header = Document(io.BytesIO(letter_rules.letter_docx(letter, stamp))).sections[0].header
    assert "地址：杭州市西湖区文三路100号" in text and "第 1 页 共 1 页" in text
    assert "Address" not in text and "Page 1" not in text
    assert "地址：" in header.paragraphs[1].text


def test_the_docx_holds_the_letter_in_a_chinese_font(org, customer):
    letter = letter_for(org, decided(org, customer, "approve"))

    document = Document(io.BytesIO(letter_rules.letter_docx(letter, stamp_for(org.cathy))))

    text = "\n".join(p.text for p in document.paragraphs)
    assert NAME in text
    assert "300,000.00元" in text
    assert letter.subject == document.paragraphs[0].text
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    assert "江南机电股份有限公司" in header and "传真：0571-88886667" in header
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    run = next(p.runs[0] for p in document.paragraphs if NAME in p.text)
    assert run._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    rule = section.header.paragraphs[-1]._p.pPr  # the double rule under the letterhead
    assert [child.tag.split("}")[1] for child in rule] == ["pBdr", "jc"]  # schema order
    signature = next(p for p in document.paragraphs if p.text == "2026年11月23日")
    assert signature.alignment == 2  # right


def test_the_layout_puts_salutation_body_and_signature_where_they_belong():
    blocks = letter_rules.letter_blocks(
        "某公司：\n\n正文。\n\n此致\n敬礼！\n\n本公司\n2026年11月23日"
    )
    assert blocks == [
        ("salutation", "某公司："),
        ("blank", ""),
        ("para", "正文。"),
        ("blank", ""),
        ("indent", "此致"),
        ("flush", "敬礼！"),
        ("blank", ""),
        ("signature", "本公司"),
        ("signature", "2026年11月23日"),
    ]


# --- Screens ------------------------------------------------------------------------------------


def test_credit_staff_generate_a_letter_in_place_with_htmx(client, org, customer):
    application = decided(org, customer, "approve")
    client.force_login(org.carl)

    response = client.post(
        reverse("credit:letter_generate", args=[application.pk]), HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    letter = ReplyLetter.objects.get(application=application)
    html = response.content.decode()
    assert f'id="letters-{application.pk}"' in html
    assert reverse("credit:letter_pdf", args=[letter.pk]) in html
    assert reverse("credit:letter_docx", args=[letter.pk]) in html
    assert "<html" not in html


def test_generating_without_htmx_goes_back_to_the_application(client, org, customer):
    application = decided(org, customer, "approve")
    client.force_login(org.carl)
    url = reverse("credit:letter_generate", args=[application.pk])
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("credit:application", args=[application.pk])
    assert ReplyLetter.objects.filter(application=application, kind=LetterKind.APPROVED).exists()


def test_the_panel_context_offers_the_right_letter(org, customer):
    from creditfile.credit.views.letters import letters_context

    application = decided(org, customer, "reject", reason="资料不实")
    context = letters_context(org.carl, application)
    assert context["application"] == application
    assert (context["letter_panel"]["can_generate"], context["letter_panel"]["next_kind"]) == (
        True,
        "拒绝函",
    )
    assert letters_context(org.alice, application)["letter_panel"]["can_generate"] is False


def test_generating_in_the_wrong_state_shows_why(client, org, customer):
    application = walk_to(org, customer, S.APPROVING)
    client.force_login(org.carl)
    response = client.post(
        reverse("credit:letter_generate", args=[application.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "还不能给客户回函" in response.content.decode()
    assert not ReplyLetter.objects.exists()


def test_a_sales_rep_may_not_generate_but_may_download(client, org, customer):
    application = decided(org, customer, "approve")
    letter = letter_for(org, application)
    client.force_login(org.alice)

    assert client.post(reverse("credit:letter_generate", args=[application.pk])).status_code == 403
    response = client.get(reverse("credit:letter_pdf", args=[letter.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "本文件由 Alice（alice） 于 2026-11-23" in text
    response = client.get(reverse("credit:letter_docx", args=[letter.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    footer = Document(io.BytesIO(response.content)).sections[0].footer.paragraphs[0].text
    assert footer.startswith("本文件由 Alice（alice） 于 2026-11-23")
    events = AuditEvent.objects.filter(action="print").order_by("id")
    assert [(e.user_id, e.customer_id, e.object_id, e.detail["format"]) for e in events] == [
        (org.alice.pk, customer.pk, str(letter.pk), "pdf"),
        (org.alice.pk, customer.pk, str(letter.pk), "docx"),
    ]
    assert events[0].object_type == "credit.replyletter"


@pytest.mark.parametrize("name", ["credit:letter_pdf", "credit:letter_docx"])
def test_a_hidden_customers_letter_is_not_found(client, org, customer, name):
    letter = letter_for(org, decided(org, customer, "approve"))
    client.force_login(org.walt)  # a rep of another region
    assert client.get(reverse(name, args=[letter.pk])).status_code == 404


def test_letters_cannot_be_generated_for_a_hidden_customer(client, org, customer):
    application = decided(org, customer, "approve")
    client.force_login(org.walt)
    assert client.post(reverse("credit:letter_generate", args=[application.pk])).status_code == 404


@pytest.mark.parametrize(
    "who, status", [("alice", 403), ("fiona", 403), ("cathy", 200), ("adam", 200)]
)
def test_only_policy_managers_edit_letter_templates(client, org, who, status):
    client.force_login(org.users[who])
    assert client.get(reverse("credit:letter_templates")).status_code == status
    url = reverse("credit:letter_template_edit", args=[LetterKind.REJECTED])
    assert client.get(url).status_code == status


def test_saving_a_template_names_the_bad_placeholder(client, org):
    client.force_login(org.cathy)
    url = reverse("credit:letter_template_edit", args=[LetterKind.APPROVED])
    before = LetterTemplate.objects.get(kind=LetterKind.APPROVED).body

    response = client.post(url, {"subject": "批复函", "body": "{客户名称}：{额度}"})

    assert response.status_code == 200
    assert "未知的占位符：{额度}" in response.content.decode()
    assert LetterTemplate.objects.get(kind=LetterKind.APPROVED).body == before


def test_saving_a_good_template_records_who_changed_it(client, org):
    client.force_login(org.cathy)
    url = reverse("credit:letter_template_edit", args=[LetterKind.APPROVED])
    response = client.post(url, {"subject": "批复函", "body": "{客户名称}：\n同意{批准额度}。"})
    assert response.status_code == 302
    template = LetterTemplate.objects.get(kind=LetterKind.APPROVED)
    assert (template.body, template.updated_by) == ("{客户名称}：\n同意{批准额度}。", org.cathy)


def test_the_preview_fills_the_template_with_sample_values(client, org):
    client.force_login(org.cathy)
    url = reverse("credit:letter_template_preview")
    ok = client.post(url, {"subject": "函", "body": "{客户名称}：额度{批准额度}"})
    assert "华信科技有限公司：额度800,000.00元" in ok.content.decode()
    bad = client.post(url, {"subject": "函", "body": "{客户名称}：{额度}"})
    assert "{额度}" in bad.content.decode()
    client.force_login(org.alice)
    assert client.post(url, {"subject": "", "body": ""}).status_code == 403


@pytest.mark.parametrize(
    "who, list_status, edit_status",
    [("alice", 403, 403), ("cathy", 200, 403), ("adam", 200, 200)],
)
def test_the_letterhead_is_edited_by_the_administrator_only(
    client, org, company, who, list_status, edit_status
):
    client.force_login(org.users[who])
    assert client.get(reverse("credit:companies")).status_code == list_status
    edit = reverse("credit:company_edit", args=[company.pk])
    assert client.get(edit).status_code == edit_status
    if list_status == 200:
        listing = client.get(reverse("credit:companies")).content.decode()
        assert "0571-88886666" in listing
        assert (edit in listing) == (edit_status == 200)


def test_the_administrator_changes_the_letterhead_of_later_letters(client, org, customer, company):
    client.force_login(org.adam)
    data = {
        "name": company.name,
        "address": "杭州市滨江区江南大道1号",
        "phone": "0571-12345678",
        "letter_signatory": "信用风险管理部",
        "is_default": "on",
        "is_active": "on",
    }
    response = client.post(reverse("credit:company_edit", args=[company.pk]), data)
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.letter_signatory == "信用风险管理部"

    body = letter_for(org, decided(org, customer, "approve")).body
    assert body.endswith("江南机电股份有限公司\n信用风险管理部\n2026年11月23日")


def test_only_one_company_is_the_default(org, company):
    other = letter_rules.save_company(Company(name="江南机电（上海）有限公司", is_default=True))
    company.refresh_from_db()
    assert (company.is_default, other.is_default) == (False, True)
    assert Company.default() == other


def test_the_application_page_shows_the_letters_panel(client, org, customer):
    application = decided(org, customer, "approve")
    letter = letter_for(org, application)
    client.force_login(org.carl)

    html = client.get(reverse("credit:application", args=[application.pk])).content.decode()

    assert f'id="letters-{application.pk}"' in html
    assert reverse("credit:letter_generate", args=[application.pk]) in html
    assert reverse("credit:letter_pdf", args=[letter.pk]) in html
