"""Coded values of the registry and care systems: sex, 続柄 and 要介護状態区分.

- Sex (性別): 1 = 男 male, 2 = 女 female; 9 and 0 = unknown.
- 続柄 (zokugara, relationship to the head of household) as the 住民記録システム標準仕様書
  (standard specification of resident registry systems) writes it: 世帯主 head, 夫 husband,
  妻 wife, 子 child, 父 father, 母 mother, 兄 / 姉 elder brother / sister, 弟 / 妹 younger
  brother / sister, chained with の ("of") up to four terms (子の妻 the child's wife, 子の子 a
  grandchild); 縁故者 (other relative: five or more terms) and 同居人 (unrelated lodger) stand
  alone. （未届） (mitodoke, "not notified") marks a partner in a marriage not registered.
- 要介護状態区分 (care need level) as care systems code it: 01 非該当 (not eligible),
  06 事業対象者 (eligible for community prevention services only), 12–13 要支援1–2 (support
  needed), 21–25 要介護1–5 (care needed).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from renkei.normalize.errors import StandardizationError

Sex = Literal["male", "female", "unknown"]

_SEXES: Final[dict[str, Sex]] = {
    "1": "male", "男": "male", "男性": "male", "M": "male", "male": "male",
    "2": "female", "女": "female", "女性": "female", "F": "female", "female": "female",
    "9": "unknown", "0": "unknown", "unknown": "unknown",
}  # fmt: skip


def _compact(text: str) -> str:
    """NFKC (full-width → ASCII) with every whitespace character removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def normalize_sex(text: str) -> Sex:
    """The sex ``text`` codes: 1/男/男性/M → male, 2/女/女性/F → female, 9/0 → unknown.

    Full-width digits and either letter case are accepted, and so are the canonical values
    themselves (normalising twice changes nothing). Anything else raises
    :class:`StandardizationError` (field ``sex``).
    """
    key = _compact(text)
    sex = _SEXES.get(key) or _SEXES.get(key.upper()) or _SEXES.get(key.lower())
    if sex is None:
        raise StandardizationError("sex", "not a sex code (1, 2, 9, 0, 男, 女, M or F)")
    return sex


@dataclass(frozen=True)
class Relationship:
    """A 続柄: ``display`` the canonical string (子の妻, 妻（未届）), ``base`` its first term,
    ``chain`` all terms in order, ``unregistered`` whether it ends with （未届）."""

    display: str
    base: str
    chain: tuple[str, ...]
    unregistered: bool


HEAD: Final = "世帯主"
DISTANT_RELATIVE: Final = "縁故者"
LODGER: Final = "同居人"
KIN_TERMS: Final = frozenset({"夫", "妻", "子", "父", "母", "兄", "姉", "弟", "妹"})
_STANDALONE: Final = frozenset({HEAD, DISTANT_RELATIVE, LODGER})
_MAX_TERMS: Final = 4
_UNREGISTERED: Final = "(未届)"  # after NFKC; displayed with full-width parentheses
_UNREGISTERED_DISPLAY: Final = "（未届）"
_SPOUSES: Final = frozenset({"夫", "妻"})
# Words other systems use that the standard replaces by chains (one reason for all, so the
# reason never tells which word the record held).
_NON_STANDARD: Final = frozenset({
    "孫", "曾孫", "ひ孫", "祖父", "祖母", "曾祖父", "曾祖母",
    "おじ", "伯父", "叔父", "おば", "伯母", "叔母", "甥", "姪", "いとこ", "従兄弟", "従姉妹",
    "長男", "長女", "次男", "二男", "三男", "次女", "二女", "三女", "養子", "養女", "嫡出子",
    "嫁", "婿", "義父", "義母", "義兄", "義姉", "義弟", "義妹", "本人", "配偶者",
})  # fmt: skip
_NON_STANDARD_REASON: Final = (
    "kinship word not used by the standard (such as 孫, 祖父, 祖母, おじ, おば, 甥, 姪, 長男, "
    "養子): it writes 子, 夫, 妻, 父, 母, 兄, 姉, 弟, 妹 chained with の, e.g. 子の子 for a "
    "grandchild, 父の母 for a grandmother, 父の兄 for an uncle, 兄の子 for a nephew"
)


def parse_relationship(text: str) -> Relationship:
    """The 続柄 ``text`` (世帯主, 妻（未届）, 子の妻, 子の子の子, 縁故者, 同居人 …).

    Full-width or half-width parentheses and spaces anywhere are accepted. Raises
    :class:`StandardizationError` (field ``relationship``) for words the standard does not use,
    chains of five or more terms (the standard writes 縁故者), and misplaced （未届）.
    """
    compact = _compact(text)
    if not compact:
        raise _relationship_error("empty")
    unregistered = compact.endswith(_UNREGISTERED)
    chain = tuple(compact.removesuffix(_UNREGISTERED).split("の"))
    _check_chain(chain, unregistered)
    display = "の".join(chain) + (_UNREGISTERED_DISPLAY if unregistered else "")
    return Relationship(display=display, base=chain[0], chain=chain, unregistered=unregistered)


def _check_chain(chain: tuple[str, ...], unregistered: bool) -> None:
    """Refuse a chain that is not a 続柄 of the standard, with the first reason found."""
    if any(_UNREGISTERED in term or "未届" in term for term in chain):
        raise _relationship_error("（未届） may only follow the last term, 夫 or 妻")
    if any(term in _NON_STANDARD for term in chain):
        raise _relationship_error(_NON_STANDARD_REASON)
    if any(not term for term in chain):
        raise _relationship_error("empty term around の")
    if len(chain) > 1 and any(term in _STANDALONE for term in chain):
        raise _relationship_error("世帯主, 縁故者 and 同居人 stand alone and are never chained")
    if any(term not in KIN_TERMS and term not in _STANDALONE for term in chain):
        raise _relationship_error("not a relationship term of the standard")
    if len(chain) > _MAX_TERMS:
        raise _relationship_error("five or more terms: the standard writes 縁故者")
    if unregistered and chain[-1] not in _SPOUSES:
        raise _relationship_error("（未届） may only follow the last term, 夫 or 妻")


def _relationship_error(reason: str) -> StandardizationError:
    return StandardizationError("relationship", reason)


CARE_LEVELS: Final[tuple[tuple[str, str], ...]] = (
    ("01", "非該当"),
    ("06", "事業対象者"),
    ("12", "要支援1"),
    ("13", "要支援2"),
    ("21", "要介護1"),
    ("22", "要介護2"),
    ("23", "要介護3"),
    ("24", "要介護4"),
    ("25", "要介護5"),
)
"""(code, name) from least to most care needed; the index is the rank (0 非該当 … 8 要介護5)."""

CareLevels = tuple[tuple[str, str], ...]


@lru_cache(maxsize=8)
def _care_by_key(levels: CareLevels) -> dict[str, tuple[str, str, int]]:
    return {
        _compact(key).translate(_KANJI_DIGITS): (code, name, rank)
        for rank, (code, name) in enumerate(levels)
        for key in (code, name)
    }


_KANJI_DIGITS: Final = str.maketrans("一二三四五", "12345")


def normalize_care_level(code: str, levels: CareLevels = CARE_LEVELS) -> tuple[str, str, int]:
    """``(code, name, rank)`` of a care level given as its code or name.

    ``levels`` is the list in force, least care first (default: the built-in one; the
    standardize stage passes the ``care_level`` list of its reference release).

    Accepts the two-digit code (``23``, ``２３``) or the name with any digits and spaces
    (``要介護3``, ``要介護３``, ``要介護 3``, ``要介護三``). Rank orders the levels: 0 非該当,
    1 事業対象者, 2 要支援1, 3 要支援2, 4–8 要介護1–5. Raises :class:`StandardizationError`
    (field ``care_level``) for anything else, including one-digit codes (``1`` could be 01 with
    its zero lost or a level number).
    """
    key = _compact(code).translate(_KANJI_DIGITS)
    level = _care_by_key(levels).get(key)
    if level is not None:
        return level
    if re.fullmatch(r"[0-9]", key):
        raise StandardizationError("care_level", "one-digit code is ambiguous; codes have two")
    if re.fullmatch(r"[0-9]+", key):
        raise StandardizationError("care_level", "not a care-level code (01, 06, 12, 13, 21–25)")
    raise StandardizationError("care_level", "not a care-level code or name")
