import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainer.accounts.rules import (
    USERNAME_PATTERN,
    InvalidNationalId,
    Role,
    is_region_code,
    mask_national_id,
    mask_phone,
    national_id_check_char,
    normalise_national_id,
    normalise_phone,
    parse_role,
    password_problem,
    region_covers,
    region_parent,
    region_prefix,
)

# The specimen number printed in GB 11643-1999.
SPECIMEN = "11010519491231002X"


def test_specimen_id_is_valid_and_normalised():
    assert normalise_national_id(" 11010519491231002x ") == SPECIMEN


@pytest.mark.parametrize(("raw", "reason"), [
    ("1101051949123100", "length"),
    ("11010519491231002Y", "characters"),
    ("110105194912310021", "checksum"),
    ("110105194902300026", "birth_date"),  # 30 February
])
def test_bad_ids_say_why(raw, reason):
    with pytest.raises(InvalidNationalId) as caught:
        normalise_national_id(raw)
    assert caught.value.reason == reason


@given(st.from_regex(r"[0-9]{6}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
                     fullmatch=True))
def test_any_real_looking_id_with_its_check_char_is_valid(first17):
    value = first17 + national_id_check_char(first17)
    assert normalise_national_id(value) == value
    # changing the check character always breaks it: MOD 11-2 catches every single error there
    wrong = "0" if value[-1] != "0" else "1"
    with pytest.raises(InvalidNationalId):
        normalise_national_id(value[:-1] + wrong)


def test_masking_hides_birth_date_and_sequence():
    assert mask_national_id(SPECIMEN) == "110105********002X"
    assert mask_national_id(None) == ""
    assert mask_phone("13800138000") == "138****8000"


@pytest.mark.parametrize(("raw", "expected"), [
    ("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000"),
    ("008613800138000", "13800138000"), ("12800138000", None), ("1380013800", None),
    ("admin", None),
])
def test_phone_numbers(raw, expected):
    assert normalise_phone(raw) == expected


def test_region_prefixes_and_cover():
    assert region_prefix("340000") == "34"
    assert region_prefix("340100") == "3401"
    assert region_prefix("340104") == "340104"
    assert region_covers("34", "340104")
    assert region_covers("340000", "340104")
    assert region_covers("3401", "340104")
    assert not region_covers("3402", "340104")
    assert not region_covers("32", "340104")
    assert region_parent("340104") == "340100"
    assert region_parent("340100") == "340000"
    assert region_parent("340000") is None


def test_roles_in_both_languages():
    assert parse_role("学员") is Role.WORKER
    assert parse_role(" Admin ") is Role.ADMIN
    assert parse_role("单位管理员") is Role.EMPLOYER_ADMIN
    with pytest.raises(ValueError):
        parse_role("superuser")


def test_password_rules():
    assert password_problem("short1") == "too_short"
    assert password_problem("12345678") == "letters_and_digits"
    assert password_problem("abcdefgh") == "letters_and_digits"
    assert password_problem("abcd1234") is None


def fullwidth(text):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_full_width_numbers_are_the_same_number_not_a_new_one():
    # Full-width digits matched \d, so "３４０１…" was stored as a second, different ID.
    assert normalise_national_id(fullwidth(SPECIMEN)) == SPECIMEN
    assert normalise_national_id(fullwidth(SPECIMEN.lower())) == SPECIMEN
    assert normalise_phone("13" + fullwidth("800138000")) == "13800138000"
    assert normalise_phone(fullwidth("+86 138-0013-8000")) == "13800138000"
    assert normalise_phone("138\u30000013\u30008000") == "13800138000"  # ideographic spaces


@pytest.mark.parametrize("digits", ["\u0660", "\u0966", "\u0e50"])  # Arabic, Devanagari, Thai
def test_other_unicode_digits_are_refused(digits):
    # NFKC leaves these as they are (only compatibility forms become ASCII); \d accepted them.
    odd = SPECIMEN[:-2].replace("0", digits) + SPECIMEN[-2:]
    with pytest.raises(InvalidNationalId):
        normalise_national_id(odd)
    assert normalise_phone("1380013800" + digits) is None
    assert not is_region_code("34010" + digits)
    assert not is_region_code(fullwidth("340104"))


def test_patterns_are_anchored_at_the_very_end():
    assert not USERNAME_PATTERN.match("admin\n")
    assert not is_region_code("340104\n")
    assert normalise_phone("13800138000\n") == "13800138000"  # surrounding space is stripped
