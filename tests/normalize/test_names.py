"""normalize_name and normalize_kana on names as legacy systems hold them."""

from __future__ import annotations

import pytest

from renkei.normalize.errors import StandardizationError
from renkei.normalize.names import normalize_kana, normalize_name

SP = "\u3000"  # the full-width space every output uses between name parts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("山田　太郎", f"山田{SP}太郎"),
        ("山田 太郎", f"山田{SP}太郎"),
        ("  山田 \u3000  太郎\u3000", f"山田{SP}太郎"),
        ("山田\t太郎", f"山田{SP}太郎"),
        ("山田\r\n太郎", f"山田{SP}太郎"),
        ("山田\u00a0太郎", f"山田{SP}太郎"),  # no-break space
        ("山田太郎", "山田太郎"),
        ("山田\u200b太郎", "山田太郎"),  # zero-width space removed
        ("\ufeff山田 太郎", f"山田{SP}太郎"),  # BOM removed
        ("山田\x00\x07太郎", "山田太郎"),  # control characters removed
        ("ＳＭＩＴＨ　Ｊｏｈｎ", f"SMITH{SP}John"),  # NFKC: full-width latin → ASCII
        ("ｽﾐｽ ｼﾞｮﾝ", f"スミス{SP}ジョン"),  # NFKC: half-width katakana → full-width
        ("髙橋 一郎", f"髙橋{SP}一郎"),  # 髙 is a unified ideograph: kept
        ("渡邊\U000e0100 花子", f"渡邊\U000e0100{SP}花子"),  # variation selector kept
        ("\ue000田 花子", f"\ue000田{SP}花子"),  # private-use 外字 kept for later mapping
        ("Maria Clara  DE LA CRUZ", f"Maria{SP}Clara{SP}DE{SP}LA{SP}CRUZ"),
    ],
)
def test_normalize_name(text: str, expected: str) -> None:
    assert normalize_name(text) == expected


def test_normalize_name_is_idempotent() -> None:
    once = normalize_name(" ｽﾐｽ\t\tｼﾞｮﾝ ")
    assert normalize_name(once) == once


@pytest.mark.parametrize("text", ["", "   ", "\u3000\u3000", "\t\n", "\x00\u200b"])
def test_normalize_name_refuses_empty(text: str) -> None:
    with pytest.raises(StandardizationError, match="empty") as caught:
        normalize_name(text)
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ﾔﾏﾀﾞ ﾀﾛｳ", f"ヤマダ{SP}タロウ"),
        ("ﾔﾏﾀﾞ\u3000\u3000 ﾀﾛｳ ", f"ヤマダ{SP}タロウ"),
        ("やまだ　たろう", f"ヤマダ{SP}タロウ"),
        ("ヤマダ タロウ", f"ヤマダ{SP}タロウ"),
        ("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
        ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
        ("ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ", "バビブベボ"),
        ("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
        ("ゔぁいおりん", "ヴァイオリン"),
        ("ﾜﾞｲﾝ", "ヷイン"),
        ("カ゛ッコウ", "ガッコウ"),  # spacing 濁点 U+309B
        ("ハ゜ン", "パン"),  # spacing 半濁点 U+309C
        ("か\u3099", "ガ"),  # combining 濁点
        ("わ゛", "ヷ"),
        ("ｺｰﾋｰ", "コーヒー"),
        ("ｺ-ﾋ-", "コーヒー"),
        ("こーひー", "コーヒー"),
        ("コ―ヒ―", "コーヒー"),  # U+2015 horizontal bar
        ("コ—ヒ‐", "コーヒー"),  # em dash, hyphen
        ("コ－ヒ－", "コーヒー"),  # full-width hyphen-minus
        ("コ−ヒ−", "コーヒー"),  # minus sign
        ("ラ--メン", "ラーーメン"),
        ("ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス"),
        ("ジョン・スミス", "ジョン・スミス"),
        ("さゝき", "サヽキ"),
        ("いすゞ", "イスヾ"),
        ("ぁぃぅぇぉっゃゅょゎゕゖ", "ァィゥェォッャュョヮヵヶ"),
        ("ｧｨｩｪｫｯｬｭｮ", "ァィゥェォッャュョ"),
        ("ヰヱヲ ゐゑを", f"ヰヱヲ{SP}ヰヱヲ"),
        ("ﾔﾏﾀﾞ\u200bﾀﾛｳ", "ヤマダタロウ"),
    ],
)
def test_normalize_kana(text: str, expected: str) -> None:
    assert normalize_kana(text) == expected


def test_normalize_kana_is_idempotent() -> None:
    once = normalize_kana(" ｺｰﾋｰ  ｶﾞｯｺｳ ")
    assert normalize_kana(once) == once


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        (" \u3000 ", "empty"),
        ("山田 タロウ", "kanji"),
        ("ヤマダ 太郎", "kanji"),
        ("々", "kanji"),
        ("Yamada Taro", "latin"),
        ("ﾔﾏﾀﾞ Taro", "latin"),
        ("ＹＡＭＡＤＡ", "latin"),
        ("ヤマダ1", "digits"),
        ("ヤマダ１", "digits"),
        ("-ヤマダ", "not kana"),  # a dash not after a kana stays a dash
        ("ヤマダ -タロウ", "not kana"),
        ("ヤマダ。", "not kana"),
        ("ヤマダ(タロウ)", "not kana"),
        ("ｱﾞ", "cannot take one"),  # no voiced ア exists
        ("ン゜", "cannot take one"),
    ],
)
def test_normalize_kana_refuses(text: str, reason: str) -> None:
    with pytest.raises(StandardizationError, match=reason) as caught:
        normalize_kana(text)
    assert caught.value.field == "kana"
    for part in text.split():
        assert part not in str(caught.value)
