"""The DCAT export read as RDF, the way a CKAN harvester (ckanext-dcat) reads it: one
dcat:Dataset per topic with Japanese and English titles, publisher, distributions, lineage."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, RDF

from renkei.data_catalogue.dcat import dataset_iri, dcat_document, upstream_topics
from renkei.data_catalogue.entries import CatalogueModel, build_model
from renkei.data_catalogue.versions import SchemaVersion, SubjectHistory
from renkei.schemas.catalogue import Catalogue
from tests.contract_lists import REPO

BASE = "https://catalogue.example.lg.jp"
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3 (rdflib's DCAT is 2)


@pytest.fixture(scope="module")
def model(catalogue: Catalogue) -> CatalogueModel:
    return build_model(catalogue, REPO / "deploy" / "agreements")


@pytest.fixture(scope="module")
def graph(model: CatalogueModel) -> Graph:
    histories = {
        "health.checkup.results": SubjectHistory(
            "health.checkup.results-value", [SchemaVersion(1, 3), SchemaVersion(2, 9)]
        )
    }
    document = dcat_document(model, base_url=BASE, publisher="札幌市", histories=histories)
    parsed = Graph()
    parsed.parse(data=json.dumps(document, ensure_ascii=False), format="json-ld")
    return parsed


def test_one_dataset_per_topic_in_the_catalog(model: CatalogueModel, graph: Graph) -> None:
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {URIRef(dataset_iri(BASE, t)) for t in model.entries}
    [catalog] = graph.subjects(RDF.type, DCAT.Catalog)
    assert set(graph.objects(catalog, DCAT.dataset)) == datasets
    [publisher] = graph.objects(catalog, DCTERMS.publisher)
    assert graph.value(publisher, FOAF.name) == Literal("札幌市")


def test_titles_descriptions_publisher_distributions(model: CatalogueModel, graph: Graph) -> None:
    for topic, entry in model.entries.items():
        iri = URIRef(dataset_iri(BASE, topic))
        assert graph.value(iri, DCTERMS.identifier) == Literal(topic)
        titles = {t.language: str(t) for t in graph.objects(iri, DCTERMS.title)}
        assert set(titles) == {"ja", "en"} and all(titles.values())
        descriptions = {d.language: str(d) for d in graph.objects(iri, DCTERMS.description)}
        data = entry.as_json()
        assert descriptions == {"ja": data["description_ja"], "en": data["description_en"]}
        publisher = graph.value(iri, DCTERMS.publisher)
        assert str(graph.value(publisher, FOAF.name)) == data["owner_department"]
        formats = {
            str(graph.value(d, DCTERMS["format"])) for d in graph.objects(iri, DCAT.distribution)
        }
        assert formats == {"Avro", "JSON"}
        for distribution in graph.objects(iri, DCAT.distribution):
            assert graph.value(distribution, DCAT.accessURL) is not None


def test_lineage_and_versions(model: CatalogueModel, graph: Graph) -> None:
    std = URIRef(dataset_iri(BASE, "std.registry.resident.events"))
    assert set(graph.objects(std, PROV.wasDerivedFrom)) == {
        URIRef(dataset_iri(BASE, t)) for t in upstream_topics(model, "std.registry.resident.events")
    }
    assert URIRef(dataset_iri(BASE, "registry.resident.events")) in set(
        graph.objects(std, PROV.wasDerivedFrom)
    )
    checkups = URIRef(dataset_iri(BASE, "health.checkup.results"))
    assert str(graph.value(checkups, DCAT_VERSION)) == "2"
    assert str(graph.value(checkups, OWL.versionInfo)) == "2"
    assert graph.value(URIRef(dataset_iri(BASE, "unified.region")), DCAT_VERSION) is None


def test_access_rights_follow_the_zone(graph: Graph) -> None:
    rights = graph.value(
        URIRef(dataset_iri(BASE, "registry.resident.events")), DCTERMS.accessRights
    )
    assert str(rights).endswith("/NON_PUBLIC")
    rights = graph.value(URIRef(dataset_iri(BASE, "unified.region")), DCTERMS.accessRights)
    assert str(rights).endswith("/RESTRICTED")
