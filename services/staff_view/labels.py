"""Japanese display labels for the codes of the two topics (schema docs are the source).

Codes stay in the JSON beside their labels, so programs read codes and people read labels.
"""

from __future__ import annotations

from typing import Final

HAZARDS: Final = {
    "flood": "洪水",
    "landslide": "崖崩れ・土石流・地滑り",
    "storm_surge": "高潮",
    "earthquake": "地震",
    "tsunami": "津波",
    "large_fire": "大規模な火事",
    "inland_flood": "内水氾濫",
    "volcano": "火山現象",
}

MODES: Final = {
    "normal": "平常時（同意者のみ提供・災害対策基本法49条の11第2項）",
    "disaster": "災害時（同意がなくても提供・災害対策基本法49条の11第3項）",
}

SEXES: Final = {"male": "男", "female": "女", "unknown": "不明"}

SUPPORT_REASONS: Final = {
    "aged_75_alone": "75歳以上のみの世帯",
    "care_level_3plus": "要介護3〜5",
    "physical_disability_1_2": "身体障害者手帳1・2級",
    "intellectual_a": "療育手帳A（重度）",
    "mental_1": "精神障害者保健福祉手帳1級",
    "intractable_disease": "指定難病",
}

LEVELS: Final = {
    5: "警戒レベル5",
    4: "警戒レベル4",
    3: "警戒レベル3",
    2: "警戒レベル2",
    1: "警戒レベル1",
}

# The region figures the page shows, in column order: (field of unified.region, label, kind).
# kind: "count" (people or households), "rate" (0-1 shown as %).
REGION_FIGURES: Final = (
    ("population", "人口", "count"),
    ("households", "世帯数", "count"),
    ("age_0_14", "年少人口（0〜14歳）", "count"),
    ("age_15_64", "生産年齢人口（15〜64歳）", "count"),
    ("age_65_74", "前期高齢者（65〜74歳）", "count"),
    ("age_75_plus", "後期高齢者（75歳以上）", "count"),
    ("evacuation_support_candidates", "避難行動要支援者（候補）", "count"),
    ("households_with_children_under_15", "15歳未満の子がいる世帯", "count"),
    ("move_ins_total", "転入（累計）", "count"),
    ("move_outs_total", "転出（累計）", "count"),
    ("checkup_participation_rate", "健診受診率", "rate"),
)

# Shown instead of the address of a person under a 支援措置 (or of their household).
ADDRESS_WITHHELD: Final = "住所非表示（支援措置）"
ADDRESS_WITHHELD_HOUSEHOLD: Final = "住所非表示（同一世帯に支援措置の対象者）"


def label(table: dict[str, str], code: str) -> str:
    """The label of ``code``, or the code itself when a newer schema added one we do not know."""
    return table.get(code, code)
