from evacuation_notifier.board import Board


def _update(status: str, persons: list[str], level: int = 4) -> dict:  # type: ignore[type-arg]
    return {
        "list_key": "011011-20261001-001:011011:0640941",
        "status": status,
        "level": level,
        "mode": "disaster",
        "persons": [{"resident_key": k, "name": "山田太郎"} for k in persons],
    }


def test_updates_keep_the_current_list_and_count_changes() -> None:
    board = Board()
    first = board.apply(_update("active", ["a", "b"]))
    assert (first.count, first.added, first.removed) == (2, 2, 0)
    second = board.apply(_update("active", ["b", "c", "d"]))
    assert (second.count, second.added, second.removed) == (3, 2, 1)
    assert board.summary()["active_lists"] == 1
    lifted = board.apply(_update("lifted", []))
    assert (lifted.count, lifted.removed) == (0, 3)
    assert board.summary() == {"active_lists": 0, "lists": []}


def test_log_lines_carry_no_names() -> None:
    change = Board().apply(_update("active", ["000000012345678"]))
    assert "山田" not in change.describe() and "000000012345678" not in change.describe()
    assert "1 persons" in change.describe()


def test_a_corrected_version_says_which_version_to_discard() -> None:
    board = Board()
    assert board.apply(_update("active", ["a", "b"])).corrects is None
    fixed = {
        **_update("active", ["a"]),
        "correction": {"corrects_sequence": 1, "added": 0, "removed": 1},
    }
    change = board.apply(fixed)
    assert (change.corrects, change.removed) == (1, 1)
    assert "CORRECTS version 1" in change.describe()
    assert board.summary()["lists"][0]["correction"]["corrects_sequence"] == 1
