"""Addresses resolved with the shipped release on the event's date (real Japan Post rows)."""

from __future__ import annotations

import datetime as dt

import pytest

from renkei.normalize.errors import StandardizationError
from renkei.reference.release import build_release
from renkei.reference.snapshot import ReferenceSnapshot, resolve_address


@pytest.fixture(scope="module")
def snapshot() -> ReferenceSnapshot:
    return ReferenceSnapshot(build_release(), today=dt.date(2026, 12, 1))


@pytest.mark.parametrize(
    ("text", "on", "in_force", "city", "today"),
    [
        # the old ward's name, before and after the 2024-01-01 reorganisation
        ("静岡県浜松市中区元城町103-2", "2023-06-01", "221317", "浜松市中区", "221384"),
        ("静岡県浜松市中区元城町103-2", "2024-06-01", "221384", "浜松市中央区", "221384"),
        # today's ward's name for an event of 2023: the ward in force then
        ("浜松市中央区元城町103-2", "2023-06-01", "221317", "浜松市中区", "221384"),
        ("浜松市元城町103-2", "2023-06-01", "221317", "浜松市中区", "221384"),
        # 北区 was split: 三方原 went to 中央区, 細江町 to 浜名区
        ("浜松市北区三方原町1", "2023-06-01", "221350", "浜松市北区", "221384"),
        ("浜松市北区細江町気賀1", "2023-06-01", "221350", "浜松市北区", "221392"),
        ("浜松市北区細江町気賀1", "2025-06-01", "221392", "浜松市浜名区", "221392"),
        ("浜松市天竜区二俣町二俣1", "2020-01-01", "221376", "浜松市天竜区", "221406"),
        # a town that became a city (市制施行 2018-10-01), and a rename that kept the code
        ("福岡県那珂川市中原1丁目1", "2017-01-01", "403059", "筑紫郡那珂川町", "402311"),
        ("兵庫県丹波篠山市北新町41", "2018-01-01", "282219", "篠山市", "282219"),
        ("兵庫県丹波篠山市北新町41", "2020-01-01", "282219", "丹波篠山市", "282219"),
        # the retired municipality's own name, before and after the change
        ("福岡県筑紫郡那珂川町中原1丁目1", "2017-01-01", "403059", "筑紫郡那珂川町", "402311"),
        ("福岡県筑紫郡那珂川町中原1丁目1", "2019-01-01", "402311", "那珂川市", "402311"),
        ("宮城県黒川郡富谷町富谷1", "2015-01-01", "044237", "黒川郡富谷町", "042161"),
        ("兵庫県篠山市北新町41", "2018-01-01", "282219", "篠山市", "282219"),
        # no change at all
        ("北海道札幌市中央区旭ケ丘5丁目6番51号", "2001-01-01", "011011", "札幌市中央区", "011011"),
    ],
)
def test_codes_in_force_on_the_date_and_today(
    snapshot: ReferenceSnapshot, text: str, on: str, in_force: str, city: str, today: str
) -> None:
    resolved = resolve_address(text, None, dt.date.fromisoformat(on), snapshot)
    postal = resolved.address.postal_code
    assert resolved.address.municipality_code == in_force
    assert resolved.address.city == city
    assert resolved.address.region_code == f"{in_force}:{postal}"
    assert resolved.current_municipality_code == today
    assert resolved.current_region_code == f"{today}:{postal}"
    assert resolved.reference_version == snapshot.version


def test_an_unknown_municipality_is_still_refused(snapshot: ReferenceSnapshot) -> None:
    with pytest.raises(StandardizationError, match="municipality"):
        resolve_address("静岡県架空市元城町1", None, dt.date(2023, 1, 1), snapshot)


def test_old_names_on_the_corpus(snapshot: ReferenceSnapshot) -> None:
    from renkei.reference.corpus import evaluate_old_names, old_name_cases

    cases = old_name_cases(snapshot.release)
    correct, _ = evaluate_old_names(snapshot, cases)
    assert len(cases) > 800
    assert correct / len(cases) >= 0.995
