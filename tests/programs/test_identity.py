import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from programs.identity import check_char, looks_like_certno, parse_certno, with_check_char

VALID = "11010519491231002X"  # the GB 11643 standard's own example


def test_standard_example_is_valid_and_yields_birth_date_and_sex():
    assert parse_certno(VALID) == (dt.date(1949, 12, 31), "2")


def test_lowercase_x_and_blanks_are_normalised():
    assert parse_certno(" 11010519491231002x ") == (dt.date(1949, 12, 31), "2")


def test_odd_sequence_digit_means_male():
    certno = with_check_char("15050219800101001")
    assert parse_certno(certno) == (dt.date(1980, 1, 1), "1")


def test_check_char_follows_iso_7064_mod_11_2():
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"


def _error(value: str) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        parse_certno(value, today=dt.date(2026, 11, 22))
    return exc.value


@pytest.mark.parametrize(
    ("value", "code", "message_zh"),
    [
        ("110105194912310021", "certno_check_digit", "身份证号校验位错误。"),
        ("11010519491231002", "certno_length", "身份证号码应为18位，当前为17位。"),
        ("1101051949123100211", "certno_length", "身份证号码应为18位，当前为19位。"),
        (with_check_char("15050219900230001"), "certno_birth_date", "身份证号中的出生日期19900230不合法。"),
        (with_check_char("15050220990101001"), "certno_birth_date", "身份证号中的出生日期20990101不合法。"),
        ("1101051949123100A1", "certno_shape", "身份证号应为17位数字加1位数字或X。"),
        (with_check_char("99050219800101001"), "certno_area", "身份证号的省级行政区划代码99不存在。"),
    ],
)
def test_invalid_numbers_are_refused_with_a_chinese_message(value, code, message_zh):
    with translation.override("zh-hans"):
        err = _error(value)
    assert err.code == code
    assert err.messages == [message_zh]


def test_looks_like_certno_separates_ids_from_names_and_person_numbers():
    assert looks_like_certno(VALID)
    assert looks_like_certno("110105194912310")  # a mistyped (short) ID is still an ID
    assert not looks_like_certno("包宝山")
    assert not looks_like_certno("15050200000000000123")  # 20-digit psn_no
