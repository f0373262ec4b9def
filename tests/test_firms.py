from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.firms import brn_check_digit, format_brn, parse_brn


@pytest.mark.parametrize("text", ["107-81-53660", "1078153660", " 107-81-53660 ", "10781-53660"])
def test_valid_brn_with_and_without_dashes(text):
    assert parse_brn(text) == "1078153660"


@pytest.mark.parametrize("text", ["107-81-53661", "1078153669", "220-81-62518"])
def test_wrong_check_digit_is_refused(text):
    with pytest.raises(ValueError, match="check digit"):
        parse_brn(text)


@pytest.mark.parametrize("text", ["", "107-81-5366", "107-81-536600", "abc-de-fghij", "107 81 53660"])
def test_wrong_shape_is_refused(text):
    with pytest.raises(ValueError, match="not a 사업자등록번호"):
        parse_brn(text)


def test_known_check_digit_by_hand():
    # 1·1 + 0·3 + 7·7 + 8·1 + 1·3 + 5·7 + 3·1 + 6·3 + 6·5 = 147, + ⌊5·6/10⌋ = 150 → D = 0
    assert brn_check_digit("107815366") == 0


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_nine_digits_have_exactly_one_valid_tenth(nine):
    valid = [d for d in range(10) if _ok(nine + str(d))]
    assert valid == [brn_check_digit(nine)]
    dashed = format_brn(nine + str(valid[0]))
    assert parse_brn(dashed) == nine + str(valid[0])


def _ok(digits):
    try:
        parse_brn(digits)
        return True
    except ValueError:
        return False


def test_startup_is_under_seven_years(make_firm):
    firm = make_firm(founded=date(2019, 3, 20))
    assert firm.is_startup(date(2026, 3, 19))
    assert not firm.is_startup(date(2026, 3, 20))
