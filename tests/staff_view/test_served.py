"""``view.served`` audit records: what /api/state released of the lists, counted per window,
written to the hash-chained audit file with counts and ids only."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from renkei.audit import AuditLog
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from staff_view.served import KIND, ServedWindow, audit_served
from staff_view.web import build_app
from tests.staff_view.test_web import _view

LIST_KEY = "141500-20260908-001:141526:2520246"


class _Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_counts_answers_with_lists_only() -> None:
    clock = _Clock()
    window = ServedWindow("staff-view", "staff-overview", ("view.a", "view.b"), clock=clock)
    empty = {"totals": {"listed_persons": 0}, "alerts": []}
    window.add(empty, "10.0.0.1")
    assert window.close() is None  # no list served: nothing to record
    listed = {
        "totals": {"listed_persons": 3},
        "alerts": [{"alert_id": "A1", "lists": [{"list_key": "A1:1"}, {"list_key": "A1:2"}]}],
    }
    window.add(listed, "10.0.0.1")
    window.add({**listed, "totals": {"listed_persons": 2}}, "10.0.0.2")
    clock.now += 60
    details = window.close()
    assert details == {
        "agreement": "staff-view",
        "purpose": "staff-overview",
        "views": ["view.a", "view.b"],
        "window_start": "2026-09-21T14:13:20Z",
        "window_end": "2026-09-21T14:14:20Z",
        "responses": 2,
        "clients": 2,
        "users": ["10.0.0.1", "10.0.0.2"],
        "persons_total": 5,
        "persons_max": 3,
        "alerts": ["A1"],
        "lists": 2,
    }
    assert window.close() is None  # a new window opened


async def test_state_answers_are_audited_without_personal_data(
    catalogue: Catalogue, settings: Settings, tmp_path: Path
) -> None:
    view = _view(catalogue)
    assert view.served is not None
    async with TestClient(TestServer(build_app(view))) as client:
        assert (await client.get("/")).status == 200  # the static page holds no data
        assert view.served.responses == 0
        answers = [await (await client.get("/api/state")).json() for _ in range(2)]
    assert view.served.responses == 2 and view.served.clients == {"127.0.0.1"}
    audit = AuditLog.open(settings, path=tmp_path / "audit.jsonl", produce=False)
    written = await audit_served(view.served, audit, "app:staff_view (app-staff-view)")
    await audit.aclose()
    assert written is not None
    [record] = audit.file.records()
    assert record["kind"] == KIND and record["actor"] == "app:staff_view (app-staff-view)"
    assert record["details"]["persons_total"] == 4  # two answers of two listed persons
    assert record["details"]["alerts"] == ["141500-20260908-001"]
    assert record["details"]["lists"] == 1 and record["details"]["clients"] == 1
    assert record["details"]["users"] == ["127.0.0.1"]  # who received the lists
    assert audit.file.verify().ok
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    persons = answers[0]["alerts"][0]["lists"][0]["persons"]
    assert answers[0]["alerts"][0]["lists"][0]["list_key"] == LIST_KEY
    for person in persons:
        for value in (person["name"], person["kana"], person["household_number"]):
            assert value and value not in text
    assert json.loads(text)["details"]["views"] == [s.topic for s in view.sources]
