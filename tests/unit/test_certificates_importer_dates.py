"""Dates as registers write them."""

import datetime as dt

import pytest

from trainer.certificates.importer import parse_date

D = dt.date


@pytest.mark.parametrize("text, expected", [
    ("2020-02-10", D(2020, 2, 10)), ("2020/2/10", D(2020, 2, 10)), ("2020.02.10", D(2020, 2, 10)),
    ("2020年2月10日", D(2020, 2, 10)), ("2020年2月10", D(2020, 2, 10)), ("20200210", D(2020, 2, 10)),
    ("43871", D(2020, 2, 10)), ("43871.0", D(2020, 2, 10)), ("2020-02-10 00:00:00", D(2020, 2, 10)),
    ("２０２０－０２－１０", D(2020, 2, 10)),
])
def test_accepted(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "2020-02-30", "10/02/2020", "yesterday", "2020-2", "0"])
def test_refused(text):
    with pytest.raises(ValueError):
        parse_date(text)
