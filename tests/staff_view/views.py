"""The staff view's purpose views in unit tests: its repository agreement, and catalogue
examples projected to what the views stage would produce for it (no Kafka)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from renkei.agreements.model import Agreement, load_agreements
from renkei.contracts.view_projection import project_value
from renkei.contracts.views import plan_views
from renkei.schemas.catalogue import Catalogue

AGREEMENTS = Path(__file__).resolve().parents[2] / "deploy" / "agreements"


def staff_agreement() -> Agreement:
    """``deploy/agreements/staff-view.yaml`` as the view loads it."""
    return next(a for a in load_agreements(AGREEMENTS) if a.id == "staff-view")


def as_view(
    catalogue: Catalogue, topic: str, value: dict[str, Any], agreement: Agreement | None = None
) -> dict[str, Any]:
    """``value`` of source ``topic`` as the agreement's view carries it (JSON form)."""
    agreement = agreement or staff_agreement()
    [plan] = [p for p in plan_views([agreement], catalogue) if p.source.topic == topic]
    return project_value(plan.spec.schema, copy.deepcopy(value), lambda _key: "0" * 64, "test")


def view_example(catalogue: Catalogue, topic: str, name: str) -> dict[str, Any]:
    """A catalogue example of ``topic`` as the staff view's view of it."""
    return as_view(catalogue, topic, catalogue.get(topic).examples[name])
