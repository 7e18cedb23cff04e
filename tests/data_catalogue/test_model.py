"""Entries, access and the lineage graph come from the catalogue, the stage registry and the
agreements: checked against those sources, and shown to follow a change in them."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from renkei.agreements.model import load_agreements
from renkei.contracts.stages import STAGES
from renkei.contracts.views import load_view_plans
from renkei.data_catalogue.entries import CatalogueModel, build_model
from renkei.data_catalogue.lineage import NODE_HEIGHT, NODE_WIDTH, build_graph, layout, topic_id
from renkei.errors import ConfigurationError
from renkei.schemas.catalogue import Catalogue
from tests.contract_lists import REPO

AGREEMENTS = REPO / "deploy" / "agreements"


@pytest.fixture(scope="module")
def model(catalogue: Catalogue) -> CatalogueModel:
    return build_model(catalogue, AGREEMENTS)


def test_every_catalogue_topic_and_every_view_has_an_entry(
    catalogue: Catalogue, model: CatalogueModel
) -> None:
    views = {plan.topic for plan in load_view_plans(AGREEMENTS, catalogue)}
    assert set(model.entries) == set(catalogue.topics) | views
    assert {e.role for e in model.entries.values() if e.topic in views} == {"view"}
    roles = [e.role for e in model.ordered()]
    assert roles.index("department") < roles.index("standardized") < roles.index("view")


def test_entry_pii_and_metadata_are_the_catalogues(
    catalogue: Catalogue, model: CatalogueModel
) -> None:
    for spec in catalogue:
        data = model.entries[spec.topic].as_json()
        for path, cls in spec.pii.items():
            [field] = [f for f in data["fields"] if f["path"] == path]
            assert field["pii"] == [cls]
        assert data["compatibility"] == spec.compatibility
        assert data["network_zone"] == spec.network_zone
        assert data["retention_ms"] == spec.metadata.get("retention_ms")
        assert data["owner_department"] == spec.metadata["owner_department"]
    events = model.entries["registry.resident.events"].as_json()
    [person] = [f for f in events["fields"] if f["path"] == "detail.person"]
    assert person["pii"] == ["personal"]  # a record: the classes of its leaves
    assert events["pii_summary"] == ["sensitive", "identifier", "personal", "location", "none"]


def test_access_follows_the_stage_registry_and_the_agreements(
    catalogue: Catalogue, model: CatalogueModel
) -> None:
    agreements = load_agreements(AGREEMENTS)
    for name, spec in STAGES.items():
        for topic in spec.contract_inputs(catalogue, AGREEMENTS):
            readers = model.entries[topic].access.readers
            assert ("stage", name) in {(p.kind, p.id) for p in readers}
        for topic in spec.contract_outputs(catalogue, AGREEMENTS):
            writers = model.entries[topic].access.writers
            assert ("stage", name) in {(p.kind, p.id) for p in writers}
    for agreement in agreements:
        for grant in agreement.topics:
            entry = model.entries[grant.topic].access
            side = entry.writers if agreement.role == "provider" else entry.readers
            [party] = [p for p in side if p.id == agreement.id]
            assert party.legal_basis == agreement.legal_basis
            assert party.fields == grant.fields
            if agreement.role == "consumer":
                assert party.purpose == agreement.purpose
                assert party.via == agreement.view_topic(grant.topic)
                view = model.entries[agreement.view_topic(grant.topic)].access
                assert agreement.id in {p.id for p in view.readers}


def test_graph_edges_are_the_registrys_and_the_agreements(
    catalogue: Catalogue, model: CatalogueModel
) -> None:
    graph = build_graph(model)
    edges = {(e.source, e.target) for e in graph.edges}
    expected: set[tuple[str, str]] = set()
    for name, spec in STAGES.items():
        expected |= {
            (topic_id(t), f"stage:{name}") for t in spec.contract_inputs(catalogue, AGREEMENTS)
        }
        expected |= {
            (f"stage:{name}", topic_id(t)) for t in spec.contract_outputs(catalogue, AGREEMENTS)
        }
    for agreement in load_agreements(AGREEMENTS):
        if agreement.role == "consumer":
            expected |= {(topic_id(v), f"app:{agreement.id}") for v in agreement.views}
    for topic in catalogue.department_topics() + catalogue.bulk_topics():
        if catalogue.get(topic).role == "department":  # a department's bulk lane too
            expected.add((f"system:{catalogue.get(topic).source_system}", topic_id(topic)))
    assert edges == expected


def test_layout_flows_downwards_without_overlaps(model: CatalogueModel) -> None:
    graph = build_graph(model)
    places = layout(graph)
    for edge in graph.edges:
        assert places[edge.source][1] < places[edge.target][1], edge
    for (x1, y1), (x2, y2) in itertools.combinations(places.values(), 2):
        assert not (abs(x1 - x2) < NODE_WIDTH and abs(y1 - y2) < NODE_HEIGHT)


def test_a_new_agreement_shows_up_everywhere(catalogue: Catalogue, tmp_path: Path) -> None:
    folder = tmp_path / "agreements"
    shutil.copytree(AGREEMENTS, folder)
    (folder / "tax-office.yaml").write_text(
        "id: tax-office\ntitle: 税務課の地域別人口の参照\nrole: consumer\nprincipal: app-tax-office\n"
        "department: 税務課\npurpose: tax-planning\nlegal_basis: 地方税法 (テスト)\nzone: lgwan\n"
        "retention_days: 7\nconsumer_group: app-tax-office\ntopics:\n"
        "  - topic: unified.region\n    fields: [region_code, population, suppressed, k_threshold]\n",
        encoding="utf-8",
    )
    model = build_model(catalogue, folder)
    view = "view.tax-planning.region"
    assert model.entries[view].role == "view"
    assert {p.id for p in model.entries["unified.region"].access.readers} >= {"tax-office"}
    edges = {(e.source, e.target) for e in build_graph(model).edges}
    assert ("stage:views", topic_id(view)) in edges
    assert (topic_id(view), "app:tax-office") in edges


def test_a_broken_agreement_is_an_error_naming_the_file(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    folder = tmp_path / "agreements"
    shutil.copytree(AGREEMENTS, folder)
    (folder / "broken.yaml").write_text("id: broken\nrole: consumer\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"broken\.yaml"):
        build_model(catalogue, folder)
