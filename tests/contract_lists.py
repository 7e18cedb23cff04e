"""Lists that tests parametrize over, derived from the catalogue (``schemas/avro/*/topic.yaml``)
and the stage registry — never kept by hand in a test."""

from __future__ import annotations

from pathlib import Path

from renkei.schemas.catalogue import load_catalogue

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = load_catalogue(REPO / "schemas" / "avro")
DEPARTMENT_TOPICS = CATALOGUE.department_topics()
"""The topics department systems publish (``role: department``)."""
