"""The documented fields of every catalogue schema: the paths the PII map uses, both halves of
every doc, types in words."""

from __future__ import annotations

import pytest

from renkei.data_catalogue.fields import schema_fields, split_doc
from renkei.schemas.catalogue import Catalogue
from tests.contract_lists import CATALOGUE

CATALOGUE_TOPICS = sorted(CATALOGUE.topics)


def test_split_doc() -> None:
    assert split_doc("住民キー / Resident key") == ("住民キー", "Resident key")
    assert split_doc("a / b / c") == ("a", "b / c")
    assert split_doc("only one") == ("only one", "only one")


@pytest.mark.parametrize("topic", CATALOGUE_TOPICS)
def test_every_pii_path_is_a_documented_field(catalogue: Catalogue, topic: str) -> None:
    spec = catalogue.get(topic)
    fields = {f.path: f for f in schema_fields(spec.schema)}
    assert set(spec.pii) <= set(fields), set(spec.pii) - set(fields)
    for f in fields.values():
        assert f.doc_ja and f.doc_en and f.doc_ja != f.doc_en, (topic, f.path)


def test_types_and_union_branches(catalogue: Catalogue) -> None:
    fields = {f.path: f for f in schema_fields(catalogue.get("registry.resident.events").schema)}
    assert fields["event_id"].type == "uuid"
    assert fields["effective_date"].type == "date"
    assert fields["recorded_at"].type == "timestamp"
    assert fields["event_type"].type == "enum" and "moved_in" in fields["event_type"].symbols
    assert fields["detail"].type == "choice"  # a union of record branches
    # fields of several branches under one prefix, named types resolved
    assert fields["detail.person.family_name"].type == "string"
    assert fields["detail.measure"].type == "string"
    assert fields["detail.planned_date"].nullable and fields["detail.planned_date"].type == "date"
    order = list(fields)
    assert (
        order.index("detail")
        < order.index("detail.person")
        < order.index("detail.person.family_name")
    )
