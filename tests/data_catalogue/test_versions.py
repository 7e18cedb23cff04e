"""What changed between two schema versions, field by field; the registry's answers into a
history (a registry that does not answer is reported, not raised)."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx

from renkei.data_catalogue.versions import Change, diff_schemas, history_from, subject_history
from renkei.schemas.catalogue import Catalogue
from renkei.serde.registry import RegistryClient


def _checkups(catalogue: Catalogue) -> dict[str, Any]:
    return copy.deepcopy(catalogue.get("health.checkup.results").schema)


def test_no_change(catalogue: Catalogue) -> None:
    schema = _checkups(catalogue)
    assert diff_schemas(schema, copy.deepcopy(schema)) == []


def test_each_kind_of_change(catalogue: Catalogue) -> None:
    before = _checkups(catalogue)
    after = copy.deepcopy(before)
    fields = after["fields"]
    fields.append(
        {"name": "notes", "type": ["null", "string"], "default": None, "doc": "備考 / Notes"}
    )
    fields[:] = [f for f in fields if f["name"] != "examining_institution"]
    for field in fields:
        if field["name"] == "fiscal_year":
            field["type"] = "long"
        if field["name"] == "bmi":
            field["doc"] = "BMI（体格指数） / Body mass index"
        if field["name"] == "medication_bp":
            field["default"] = True
    changes = diff_schemas(before, after)
    assert Change("added", "notes", after="string") in changes
    assert Change("removed", "examining_institution", before="string") in changes
    assert Change("type", "fiscal_year", "int", "long") in changes
    assert Change("default", "medication_bp", "false", "true") in changes
    assert [c.kind for c in changes if c.path == "bmi"] == ["doc"]
    assert len(changes) == 5


def test_history_from_registry_answers(catalogue: Catalogue) -> None:
    v1 = _checkups(catalogue)
    v2 = copy.deepcopy(v1)
    v2["fields"].append(
        {"name": "notes", "type": ["null", "string"], "default": None, "doc": "a / b"}
    )
    raw = [
        {"version": 2, "id": 12, "schema": json.dumps(v2)},
        {"version": 1, "id": 7, "schema": json.dumps(v1)},
    ]
    history = history_from(raw)
    assert [(v.version, v.schema_id) for v in history] == [(1, 7), (2, 12)]
    assert history[0].changes == ()
    assert history[1].changes == (Change("added", "notes", after="string"),)


async def test_a_registry_that_does_not_answer_is_reported(catalogue: Catalogue) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = RegistryClient("http://registry.invalid", transport=httpx.MockTransport(refuse))
    async with client:
        history = await subject_history(client, "x-value", _checkups(catalogue))
    assert history.versions == [] and history.error and "not reachable" in history.error
