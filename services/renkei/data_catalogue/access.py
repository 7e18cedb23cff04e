"""Who may write and read a topic, and under what: the stages of the stage registry (the
platform's own processing) and the data-sharing agreements (a provider writes its department
topic; a consumer reads the purpose view of a source topic, only the agreed fields, for its
purpose and under its legal basis)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renkei.agreements.model import Agreement
from renkei.contracts.stages import STAGES
from renkei.contracts.views import ViewPlan
from renkei.schemas.catalogue import Catalogue


@dataclass(frozen=True)
class StageIO:
    """A stage's contract topics (not its internal ones)."""

    name: str
    title: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def stage_topics(catalogue: Catalogue, agreements_dir: Path) -> list[StageIO]:
    """Every stage of the registry with the topics it consumes and produces (standardize's
    from the catalogue's department topics, views' from the consumer agreements)."""
    return [
        StageIO(
            name,
            spec.title,
            spec.contract_inputs(catalogue, agreements_dir),
            spec.contract_outputs(catalogue, agreements_dir),
        )
        for name, spec in STAGES.items()
    ]


@dataclass(frozen=True)
class Party:
    """A stage or an agreement that writes or reads a topic."""

    kind: str
    """``stage`` (platform processing), ``provider`` (a department system writes), ``consumer``
    (an app reads, through its purpose view ``via``)."""
    id: str
    title: str
    department: str | None = None
    principal: str | None = None
    purpose: str | None = None
    legal_basis: str | None = None
    zone: str | None = None
    retention_days: int | None = None
    fields: tuple[str, ...] = ()
    via: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "title": self.title,
            "department": self.department,
            "principal": self.principal,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "zone": self.zone,
            "retention_days": self.retention_days,
            "fields": list(self.fields),
            "via": self.via,
        }


@dataclass(frozen=True)
class Access:
    writers: tuple[Party, ...] = ()
    readers: tuple[Party, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "writers": [p.as_json() for p in self.writers],
            "readers": [p.as_json() for p in self.readers],
        }


def _agreement_party(agreement: Agreement, fields: tuple[str, ...], via: str | None) -> Party:
    return Party(
        kind=agreement.role,
        id=agreement.id,
        title=agreement.title,
        department=agreement.department,
        principal=agreement.principal,
        purpose=agreement.purpose,
        legal_basis=agreement.legal_basis,
        zone=agreement.zone,
        retention_days=agreement.retention_days,
        fields=fields,
        via=via,
    )


def _stage_party(stage: StageIO) -> Party:
    return Party(kind="stage", id=stage.name, title=stage.title)


@dataclass
class AccessIndex:
    """Access of every topic, from the stages, view plans and agreements."""

    stages: list[StageIO]
    plans: list[ViewPlan]
    agreements: list[Agreement]
    _views: dict[str, ViewPlan] = field(init=False)

    def __post_init__(self) -> None:
        self._views = {plan.topic: plan for plan in self.plans}

    def of(self, topic: str) -> Access:
        writers = [_stage_party(s) for s in self.stages if topic in s.outputs]
        readers = [_stage_party(s) for s in self.stages if topic in s.inputs]
        plan = self._views.get(topic)
        by_id = {a.id: a for a in self.agreements}
        for agreement in self.agreements:
            for grant in agreement.topics:
                if grant.topic != topic:
                    continue
                if agreement.role == "provider":
                    writers.append(_agreement_party(agreement, grant.fields, None))
                else:
                    via = agreement.view_topic(topic)
                    readers.append(_agreement_party(agreement, grant.fields, via))
        if plan is not None:  # a view: its consumers read it directly
            for agreement_id in plan.agreements:
                readers.append(_agreement_party(by_id[agreement_id], plan.fields, None))
        return Access(tuple(writers), tuple(readers))
