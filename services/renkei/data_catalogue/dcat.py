"""The catalogue as DCAT (W3C Data Catalog Vocabulary) in JSON-LD, for a CKAN-style portal to
harvest (ckanext-dcat reads ``dcat:Dataset`` subjects: ``dct:title``, ``dct:description``,
``dcat:keyword``, ``dct:publisher``/``foaf:name``, ``dcat:contactPoint``,
``dcat:distribution`` with ``dcat:accessURL``/``dcat:downloadURL``, ``dct:format``…).

The context is inline (no remote ``@context``: the machines reach no other host), literals are
tagged ``ja`` and ``en``. One dataset per topic; ``prov:wasDerivedFrom`` carries the lineage
(the topics the writing stage reads); ``dcat:version`` the latest registry version. Field
names and PII classes are metadata, not personal data; the records themselves never leave.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from renkei.data_catalogue.entries import CatalogueModel, TopicEntry
from renkei.data_catalogue.fields import split_doc
from renkei.data_catalogue.live import LiveFigures
from renkei.data_catalogue.versions import SubjectHistory

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "prov": "http://www.w3.org/ns/prov#",
    "adms": "http://www.w3.org/ns/adms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
}
ACCESS_RIGHTS = "http://publications.europa.eu/resource/authority/access-right/"
LANGUAGES = ("http://id.loc.gov/vocabulary/iso639-1/ja", "http://id.loc.gov/vocabulary/iso639-1/en")
ZONE_ACCESS = {"individual_number": "NON_PUBLIC", "lgwan": "RESTRICTED", "internet": "RESTRICTED"}
"""No topic is open data by being in a zone: publishing one is a separate decision."""


def _text(ja: str, en: str) -> list[dict[str, str]]:
    return [{"@value": ja, "@language": "ja"}, {"@value": en, "@language": "en"}]


def _title(entry: TopicEntry) -> list[dict[str, str]]:
    ja, en = split_doc(str(entry.spec.metadata.get("description", "")))
    return _text(ja.split("（", 1)[0] or entry.topic, en.split(" (", 1)[0] or entry.topic)


def _when(ms: int) -> dict[str, str]:
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds")
    return {"@value": moment, "@type": "xsd:dateTime"}


def dataset_iri(base_url: str, topic: str) -> str:
    return f"{base_url}/topics/{quote(topic)}"


def _dataset(
    entry: TopicEntry,
    base_url: str,
    upstream: list[str],
    history: SubjectHistory | None,
    live: LiveFigures | None,
) -> dict[str, Any]:
    data = entry.as_json()
    iri = dataset_iri(base_url, entry.topic)
    landing = f"{base_url}/#topic={quote(entry.topic)}"
    owner = data["owner_department"] or "Renkei platform (連携基盤)"
    dataset: dict[str, Any] = {
        "@id": iri,
        "@type": "dcat:Dataset",
        "dct:identifier": entry.topic,
        "dct:title": _title(entry),
        "dct:description": _text(data["description_ja"], data["description_en"]),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": owner},
        "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": owner},
        "dcat:keyword": [entry.role, data["network_zone"], *data["pii_summary"]],
        "dcat:landingPage": {"@id": landing},
        "dct:accessRights": {
            "@id": ACCESS_RIGHTS + ZONE_ACCESS.get(data["zone"] or "", "NON_PUBLIC")
        },
        "dct:conformsTo": {"@id": f"{base_url}/api/schema/{quote(entry.topic)}"},
        "dct:rights": [
            {"@type": "dct:RightsStatement", "rdfs:label": party["legal_basis"]}
            for party in data["access"]["writers"] + data["access"]["readers"]
            if party["legal_basis"]
        ],
        "prov:wasDerivedFrom": [{"@id": dataset_iri(base_url, t)} for t in upstream],
        "dcat:distribution": [
            {
                "@id": f"{iri}#kafka",
                "@type": "dcat:Distribution",
                "dct:title": _text(
                    f"Kafka トピック {entry.topic}（Avro、Confluent ワイヤ形式）",
                    f"Kafka topic {entry.topic} (Avro, Confluent wire format)",
                ),
                "dcat:accessURL": {"@id": landing},
                "dct:format": "Avro",
            },
            {
                "@id": f"{iri}#schema",
                "@type": "dcat:Distribution",
                "dct:title": _text("スキーマ（Avro、項目の説明付き）", "Schema (Avro, documented)"),
                "dcat:accessURL": {"@id": f"{base_url}/api/schema/{quote(entry.topic)}"},
                "dcat:downloadURL": {"@id": f"{base_url}/api/schema/{quote(entry.topic)}"},
                "dcat:mediaType": {
                    "@id": "https://www.iana.org/assignments/media-types/application/json"
                },
                "dct:format": "JSON",
            },
        ],
    }
    if history is not None and history.versions:
        latest = history.versions[-1]
        # DCAT 3 / DCAT-AP 3 name it dcat:version; DCAT-AP 2 (ckanext-dcat's default profile)
        # owl:versionInfo
        dataset["dcat:version"] = dataset["owl:versionInfo"] = str(latest.version)
        notes = ", ".join(f"{c.kind} {c.path}" for c in latest.changes) or "first version"
        dataset["adms:versionNotes"] = notes
    if live is not None:
        figure = live.topics.get(entry.topic)
        if figure is not None and figure.latest_ms is not None:
            dataset["dct:modified"] = _when(figure.latest_ms)
    return dataset


def upstream_topics(model: CatalogueModel, topic: str) -> list[str]:
    """The topics the writers of ``topic`` read (its lineage one step back)."""
    writers = {p.id for p in model.entries[topic].access.writers if p.kind == "stage"}
    found = {t for stage in model.stages if stage.name in writers for t in stage.inputs}
    return sorted(found)


def dcat_document(
    model: CatalogueModel,
    *,
    base_url: str,
    publisher: str,
    histories: dict[str, SubjectHistory] | None = None,
    live: LiveFigures | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The JSON-LD document of the whole catalogue."""
    base_url = base_url.rstrip("/")
    moment = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    histories = histories or {}
    return {
        "@context": CONTEXT,
        "@id": f"{base_url}/catalogue",
        "@type": "dcat:Catalog",
        "dct:title": _text("連携基盤 データカタログ", "Renkei data catalogue"),
        "dct:description": _text(
            "データ連携基盤のトピック（データセット）の一覧：所管課、項目、個人情報の区分、"
            "保存期間、データの流れ、利用者と法的根拠",
            "Topics (datasets) of the data-linkage platform: owner department, fields, PII "
            "classes, retention, lineage, who uses them and under which legal basis",
        ),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": publisher},
        "dct:language": [{"@id": lang} for lang in LANGUAGES],
        "dct:modified": {"@value": moment, "@type": "xsd:dateTime"},
        "foaf:homepage": {"@id": f"{base_url}/"},
        "dcat:dataset": [
            _dataset(
                entry,
                base_url,
                upstream_topics(model, entry.topic),
                histories.get(entry.topic),
                live,
            )
            for entry in model.ordered()
        ],
    }
