import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from creditfile.core.validators import (
    USCC_AUTHORITIES,
    USCC_CHARSET,
    uscc_check_digit,
    validate_phone,
    validate_postcode,
    validate_uscc,
)

# A real code, published on the licence of Huawei Technologies Co., Ltd.
REAL_USCC = "914403001922038216"


@st.composite
def valid_usccs(draw):
    authority = draw(st.sampled_from(USCC_AUTHORITIES))
    kind = draw(st.sampled_from("123"))
    region = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    org = draw(st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9))
    first17 = authority + kind + region + org
    return first17 + uscc_check_digit(first17)


def test_it_accepts_a_real_code():
    validate_uscc(REAL_USCC)


@given(valid_usccs())
def test_it_accepts_every_generated_valid_code(code):
    validate_uscc(code)


@given(valid_usccs(), st.integers(min_value=0, max_value=17), st.sampled_from(USCC_CHARSET))
def test_it_rejects_every_single_character_change(code, position, replacement):
    if code[position] == replacement:
        replacement = USCC_CHARSET[(USCC_CHARSET.index(replacement) + 1) % len(USCC_CHARSET)]
    changed = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(ValidationError):
        validate_uscc(changed)


def test_it_names_the_expected_check_digit():
    wrong = REAL_USCC[:17] + ("7" if REAL_USCC[17] != "7" else "8")
    with pytest.raises(ValidationError) as exc:
        validate_uscc(wrong)
    assert "第18位应为“6”" in exc.value.messages[0]


def test_it_names_a_forbidden_character_and_its_position():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91440300192203821O")
    assert "第18位“O”" in exc.value.messages[0]


def test_it_names_the_wrong_length():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91440300")
    assert "实际为8位" in exc.value.messages[0]


def test_it_requires_digits_for_the_region_part():
    first17 = "91A4030019220382" + "1"
    with pytest.raises(ValidationError) as exc:
        validate_uscc(first17 + uscc_check_digit(first17))
    assert "行政区划代码" in exc.value.messages[0]


@pytest.mark.parametrize(
    "number",
    [
        "13812345678",
        "+86 138 1234 5678",
        "010-12345678",
        "0755-8765432",
        "400-800-1234",
        "021-12345678转123",
        "+4930123456",
        "",
    ],
)
def test_it_accepts_chinese_and_international_phones(number):
    validate_phone(number)


@pytest.mark.parametrize("number", ["12345", "1381234567", "23812345678", "abc", "12-34"])
def test_it_rejects_malformed_phones(number):
    with pytest.raises(ValidationError) as exc:
        validate_phone(number)
    assert number in exc.value.messages[0]


def test_it_checks_postcodes():
    validate_postcode("518000")
    with pytest.raises(ValidationError):
        validate_postcode("51800")
    with pytest.raises(ValidationError):
        validate_postcode("51800A")
