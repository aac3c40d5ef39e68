import pytest

from accbench.errors import InputError
from accbench.units import parse_si


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [("106.25G", "Bd", 106.25e9), ("53.125GBd", "Bd", 53.125e9), ("26.5625 GHz", "Hz", 26.5625e9),
     ("10M", "Hz", 10e6), ("1e9", "Hz", 1e9), ("50m", "", 0.05), (25, "Hz", 25.0)],
)
def test_parse_si(text, unit, expected):
    assert parse_si(text, unit) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["abc", "12x", "1.2.3G", ""])
def test_parse_si_rejects(text):
    with pytest.raises(InputError):
        parse_si(text, "Hz")
