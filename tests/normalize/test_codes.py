"""normalize_sex, parse_relationship and normalize_care_level against DOMAIN.md's codes."""

from __future__ import annotations

import pytest

from renkei.normalize.codes import (
    Relationship,
    normalize_care_level,
    normalize_sex,
    parse_relationship,
)
from renkei.normalize.errors import StandardizationError
from renkei.simulator.care import LEVEL_NAMES


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "male"),
        ("１", "male"),
        (" 1 ", "male"),
        ("男", "male"),
        ("男性", "male"),
        ("M", "male"),
        ("m", "male"),
        ("Ｍ", "male"),
        ("male", "male"),
        ("2", "female"),
        ("２", "female"),
        ("女", "female"),
        ("女 性", "female"),
        ("F", "female"),
        ("f", "female"),
        ("ｆ", "female"),
        ("female", "female"),
        ("9", "unknown"),
        ("０", "unknown"),
        ("0", "unknown"),
        ("unknown", "unknown"),
    ],
)
def test_normalize_sex(text: str, expected: str) -> None:
    assert normalize_sex(text) == expected


@pytest.mark.parametrize("text", ["", " ", "3", "12", "01", "X", "男女", "不明", "Mr"])
def test_normalize_sex_refuses(text: str) -> None:
    with pytest.raises(StandardizationError, match="not a sex code") as caught:
        normalize_sex(text)
    assert caught.value.field == "sex"


def _rel(display: str, chain: tuple[str, ...], unregistered: bool = False) -> Relationship:
    return Relationship(display=display, base=chain[0], chain=chain, unregistered=unregistered)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("世帯主", _rel("世帯主", ("世帯主",))),
        ("縁故者", _rel("縁故者", ("縁故者",))),
        ("同居人", _rel("同居人", ("同居人",))),
        *((term, _rel(term, (term,))) for term in "夫妻子父母兄姉弟妹"),
        ("夫（未届）", _rel("夫（未届）", ("夫",), True)),
        ("妻（未届）", _rel("妻（未届）", ("妻",), True)),
        ("妻(未届)", _rel("妻（未届）", ("妻",), True)),
        ("妻 （未届）", _rel("妻（未届）", ("妻",), True)),
        ("子の妻（未届）", _rel("子の妻（未届）", ("子", "妻"), True)),
        ("子の夫", _rel("子の夫", ("子", "夫"))),
        ("子の妻", _rel("子の妻", ("子", "妻"))),
        ("子の子", _rel("子の子", ("子", "子"))),
        ("子の子の子", _rel("子の子の子", ("子", "子", "子"))),
        ("子の子の子の子", _rel("子の子の子の子", ("子", "子", "子", "子"))),
        ("妻の父", _rel("妻の父", ("妻", "父"))),
        ("父の母", _rel("父の母", ("父", "母"))),
        ("妻の子", _rel("妻の子", ("妻", "子"))),
        ("兄の子の妻", _rel("兄の子の妻", ("兄", "子", "妻"))),
        (" 子 の 妻 ", _rel("子の妻", ("子", "妻"))),
        ("子\u3000の\u3000子", _rel("子の子", ("子", "子"))),
    ],
)
def test_parse_relationship(text: str, expected: Relationship) -> None:
    assert parse_relationship(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("\u3000", "empty"),
        ("子の子の子の子の子", "five or more terms: the standard writes 縁故者"),
        ("妻の父の母の兄の子", "five or more terms"),
        ("孫", "子の子 for a grandchild"),
        ("祖父", "父の母 for a grandmother"),
        ("祖母", "not used by the standard"),
        ("おじ", "not used by the standard"),
        ("おば", "not used by the standard"),
        ("甥", "兄の子 for a nephew"),
        ("姪", "not used by the standard"),
        ("子の孫", "not used by the standard"),
        ("長男", "not used by the standard"),
        ("養子", "not used by the standard"),
        ("世帯主の父", "stand alone"),
        ("子の同居人", "stand alone"),
        ("子のの妻", "empty term"),
        ("の子", "empty term"),
        ("子の", "empty term"),
        ("子(未届)", "only follow the last term, 夫 or 妻"),
        ("妻（未届）の子", "only follow the last term"),
        ("世帯主(未届)", "only follow the last term"),
        ("友人", "not a relationship term"),
        ("child", "not a relationship term"),
    ],
)
def test_parse_relationship_refuses(text: str, reason: str) -> None:
    with pytest.raises(StandardizationError, match=reason) as caught:
        parse_relationship(text)
    assert caught.value.field == "relationship"


@pytest.mark.parametrize("text", ["孫", "祖母", "甥", "長男"])
def test_refused_words_share_one_reason(text: str) -> None:
    """The reason is the same for every non-standard word, so it never tells which was sent."""
    with pytest.raises(StandardizationError) as caught:
        parse_relationship(text)
    with pytest.raises(StandardizationError) as reference:
        parse_relationship("おじ")
    assert caught.value.reason == reference.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01", ("01", "非該当", 0)),
        ("非該当", ("01", "非該当", 0)),
        ("06", ("06", "事業対象者", 1)),
        ("０６", ("06", "事業対象者", 1)),
        ("事業対象者", ("06", "事業対象者", 1)),
        ("12", ("12", "要支援1", 2)),
        ("要支援1", ("12", "要支援1", 2)),
        ("13", ("13", "要支援2", 3)),
        ("要支援２", ("13", "要支援2", 3)),
        ("21", ("21", "要介護1", 4)),
        ("22", ("22", "要介護2", 5)),
        ("23", ("23", "要介護3", 6)),
        ("２３", ("23", "要介護3", 6)),
        ("要介護３", ("23", "要介護3", 6)),
        ("要介護 3", ("23", "要介護3", 6)),
        ("要介護三", ("23", "要介護3", 6)),
        (" 23 ", ("23", "要介護3", 6)),
        ("24", ("24", "要介護4", 7)),
        ("25", ("25", "要介護5", 8)),
        ("要介護5", ("25", "要介護5", 8)),
    ],
)
def test_normalize_care_level(text: str, expected: tuple[str, str, int]) -> None:
    assert normalize_care_level(text) == expected


def test_care_level_accepts_every_simulator_code_and_name() -> None:
    for code, name in LEVEL_NAMES.items():
        assert normalize_care_level(code)[:2] == (code, name)
        assert normalize_care_level(name)[:2] == (code, name)


def test_care_level_ranks_are_ordered() -> None:
    codes = ["01", "06", "12", "13", "21", "22", "23", "24", "25"]
    assert [normalize_care_level(code)[2] for code in codes] == list(range(9))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1", "one-digit code is ambiguous"),
        ("6", "one-digit code is ambiguous"),
        ("11", "not a care-level code"),
        ("26", "not a care-level code"),
        ("00", "not a care-level code"),
        ("123", "not a care-level code"),
        ("", "not a care-level code or name"),
        ("要介護6", "not a care-level code or name"),
        ("要支援3", "not a care-level code or name"),
        ("要支援", "not a care-level code or name"),
        ("自立", "not a care-level code or name"),
    ],
)
def test_normalize_care_level_refuses(text: str, reason: str) -> None:
    with pytest.raises(StandardizationError, match=reason) as caught:
        normalize_care_level(text)
    assert caught.value.field == "care_level"
    if text:
        assert text not in str(caught.value)
