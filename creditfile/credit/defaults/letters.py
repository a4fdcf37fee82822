"""The four standard reply letters 回复客户的标准函 (R-25) a new installation starts with.

Each is a Chinese business letter: 称谓 (the customer), 正文 (what was decided, the
terms in words, what happens next), 此致 敬礼, 落款 (company and department) and 日期.
The letterhead itself (address, telephone, fax…) comes from the selling company's
settings, so it is not repeated here. Placeholders: credit/services/letters.py.
"""

from creditfile.credit.choices import LetterKind
from creditfile.credit.models import LetterTemplate

_CLOSING = """
特此函复。

此致
敬礼！

{公司名称}
{落款}
{日期}"""

TEMPLATES = {
    LetterKind.APPROVED: (
        "关于{客户名称}信用额度申请的批复函",
        """{客户名称}：

感谢贵公司一直以来对我公司的信任与支持。贵公司提交的信用额度申请（申请编号：{申请编号}，申请额度人民币{申请额度}）已收悉。经我公司信用管理部门调查、评估和审批，现将结果函复如下：

一、同意给予贵公司信用额度人民币{批准额度}，信用等级为{信用等级}；
二、信用期限为{信用期限}，付款条件为{付款条件}；
三、上述信用额度的有效期至{有效期至}止。有效期内，我公司将根据贵公司的付款记录和经营状况定期复评，并据此调整信用等级和额度。

请贵公司在上述额度和期限内安排采购并按期付款。如贵公司的经营、股权、财务状况或联系方式发生重大变化，请及时告知我公司。期待双方合作长久顺利。
"""
        + _CLOSING,
    ),
    LetterKind.PARTLY_APPROVED: (
        "关于{客户名称}信用额度申请的批复函",
        """{客户名称}：

感谢贵公司一直以来对我公司的信任与支持。贵公司提交的信用额度申请（申请编号：{申请编号}）申请额度为人民币{申请额度}。经我公司信用管理部门调查、评估和审批，现将结果函复如下：

一、同意给予贵公司信用额度人民币{批准额度}，信用等级为{信用等级}；
二、信用期限为{信用期限}，付款条件为{付款条件}；
三、上述信用额度的有效期至{有效期至}止。

未能全额满足贵公司申请的原因是：{理由}。

我公司将根据贵公司今后的付款记录和经营状况定期复评。贵公司如能补充提供最新财务资料、担保或保证金，可再次申请调整额度。感谢贵公司的理解，期待双方合作长久顺利。
"""
        + _CLOSING,
    ),
    LetterKind.REJECTED: (
        "关于{客户名称}信用额度申请的复函",
        """{客户名称}：

感谢贵公司对我公司的信任与支持。贵公司提交的信用额度申请（申请编号：{申请编号}，申请额度人民币{申请额度}）已收悉。经我公司信用管理部门调查、评估和审批，很遗憾，我公司目前暂不能给予贵公司赊销信用额度，原因是：{理由}。

在此期间，我公司仍愿以现款现货等方式继续为贵公司供货。待贵公司经营和财务状况改善后，欢迎提供最新资料再次提出申请，我公司将重新进行评估。感谢贵公司的理解。
"""
        + _CLOSING,
    ),
    LetterKind.MORE_INFO: (
        "关于{客户名称}信用额度申请补充资料的函",
        """{客户名称}：

感谢贵公司对我公司的信任与支持。贵公司提交的信用额度申请（申请编号：{申请编号}，申请额度人民币{申请额度}）已收悉，目前正在审核之中。为完成信用评估，请贵公司补充提供以下资料：

{需补充资料}

请贵公司在收到本函后尽快将上述资料加盖公章，寄送我公司或交给我公司业务人员。资料齐全后，我公司将继续审核并及时函复。如有疑问，请与我公司信用管理部门联系。

特此函告。

此致
敬礼！

{公司名称}
{落款}
{日期}""",
    ),
}


def install() -> None:
    """The four templates, only into an empty table (an edited set is never overwritten)."""
    if LetterTemplate.objects.exists():
        return
    LetterTemplate.objects.bulk_create(
        LetterTemplate(kind=kind, subject=subject, body=body)
        for kind, (subject, body) in TEMPLATES.items()
    )
