"""Municipality codes over time: in force on a date, today's successors, renames."""

from __future__ import annotations

import datetime as dt

from renkei.reference.municipalities import FormerName, Municipalities, Municipality

D = dt.date
# 浜松市北区 was split on 2024-01-01: most of it to 浜名区, 三方原 to 中央区.
TABLE = Municipalities.of(
    [
        Municipality(
            "221317", "静岡県", "浜松市中区", valid_to=D(2023, 12, 31), successors=("221384",)
        ),
        Municipality(
            "221350",
            "静岡県",
            "浜松市北区",
            valid_to=D(2023, 12, 31),
            successors=("221392", "221384"),
        ),
        Municipality(
            "221384", "静岡県", "浜松市中央区", D(2024, 1, 1), predecessors=("221317", "221350")
        ),
        Municipality("221392", "静岡県", "浜松市浜名区", D(2024, 1, 1), predecessors=("221350",)),
        Municipality(
            "282219", "兵庫県", "丹波篠山市", former_names=(FormerName("篠山市", D(2019, 4, 30)),)
        ),
    ]
)


def test_a_code_in_force_on_the_date_is_kept() -> None:
    assert TABLE.code_on("221317", D(2023, 6, 1)) == "221317"
    assert TABLE.code_on("131016", D(2023, 6, 1)) == "131016"  # unknown: never changed


def test_a_retired_code_written_after_its_retirement_becomes_its_successor() -> None:
    assert TABLE.code_on("221317", D(2024, 6, 1)) == "221384"


def test_a_split_ward_picks_the_successor_the_address_belongs_to() -> None:
    assert TABLE.code_on("221350", D(2024, 6, 1)) == "221392"  # the main one
    assert TABLE.code_on("221350", D(2024, 6, 1), prefer={"221384"}) == "221384"


def test_a_new_code_written_for_an_older_event_becomes_its_predecessor() -> None:
    assert TABLE.code_on("221384", D(2023, 6, 1), prefer={"221350"}) == "221350"
    assert TABLE.code_on("221384", D(2023, 6, 1)) == "221317"


def test_today_codes_follow_successors() -> None:
    today = D(2026, 12, 1)
    assert TABLE.current_codes("221317", today) == ("221384",)
    assert TABLE.current_codes("221350", today) == ("221392", "221384")
    assert TABLE.current_codes("221350", D(2023, 1, 1)) == ("221350",)


def test_a_rename_keeps_the_code_and_the_former_name() -> None:
    entry = TABLE.get("282219")
    assert entry is not None
    assert entry.name_on(D(2018, 1, 1)) == "篠山市"
    assert entry.name_on(D(2019, 5, 1)) == "丹波篠山市"
