"""The lineage graph (データの流れ): department systems → department topics → stages → std,
unified and derived topics → purpose views → the apps that read them.

Derived from the stage registry (each stage's contract inputs and outputs), the catalogue (the
sending system of each department topic) and the agreements (providers' principals, consumers'
views): never kept by hand. :func:`layout` places it in layers, top to bottom, for the page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from renkei.data_catalogue.entries import CatalogueModel

NODE_WIDTH = 230
NODE_HEIGHT = 46
GAP_X = 24
GAP_Y = 56


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    """``system`` (a department system), ``topic``, ``stage``, ``app`` (a consumer)."""
    label: str
    detail: str
    role: str | None = None
    """The topic's role (department, standardized, … view)."""


@dataclass(frozen=True)
class Edge:
    source: str
    target: str


@dataclass(frozen=True)
class Graph:
    nodes: dict[str, Node]
    edges: tuple[Edge, ...]

    def as_json(self) -> dict[str, Any]:
        places = layout(self)
        return {
            "nodes": [
                {**vars(n), "x": places[n.id][0], "y": places[n.id][1]} for n in self.nodes.values()
            ],
            "edges": [{"source": e.source, "target": e.target} for e in self.edges],
            "width": max((x for x, _ in places.values()), default=0) + NODE_WIDTH,
            "height": max((y for _, y in places.values()), default=0) + NODE_HEIGHT,
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
        }


def topic_id(topic: str) -> str:
    return f"topic:{topic}"


def build_graph(model: CatalogueModel) -> Graph:
    """Every flow the platform declares; topics no one writes or reads are left out."""
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    def topic(name: str) -> str:
        entry = model.entries.get(name)
        owner = str(entry.spec.metadata.get("owner_department", "")) if entry else ""
        nodes.setdefault(
            topic_id(name),
            Node(topic_id(name), "topic", name, owner, entry.role if entry else None),
        )
        return topic_id(name)

    for entry in model.ordered():
        if entry.role != "department":
            continue
        providers = [p for p in entry.access.writers if p.kind == "provider"]
        system = entry.spec.source_system or (providers[0].principal if providers else "")
        if not system:
            continue
        node_id = f"system:{system}"
        owner = str(entry.spec.metadata.get("owner_department", ""))
        nodes.setdefault(node_id, Node(node_id, "system", system, owner))
        edges.append(Edge(node_id, topic(entry.topic)))
    for stage in model.stages:
        stage_id = f"stage:{stage.name}"
        nodes[stage_id] = Node(stage_id, "stage", stage.name, stage.title)
        edges += [Edge(topic(t), stage_id) for t in stage.inputs]
        edges += [Edge(stage_id, topic(t)) for t in stage.outputs]
    for agreement in model.agreements:
        if agreement.role != "consumer":
            continue
        app_id = f"app:{agreement.id}"
        detail = f"{agreement.department} · {agreement.purpose}"
        nodes[app_id] = Node(app_id, "app", agreement.principal, detail)
        edges += [Edge(topic(view), app_id) for view in agreement.views]
    unique = tuple(dict.fromkeys(edges))
    return Graph(nodes, unique)


def _layers(graph: Graph) -> dict[str, int]:
    """Longest path from a node without inputs (the graph is acyclic: stages talk only through
    topics, and internal topics are not drawn)."""
    incoming: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        incoming[edge.target].append(edge.source)
    layer: dict[str, int] = {}

    def depth(node: str, path: frozenset[str]) -> int:
        if node in layer:
            return layer[node]
        if node in path:
            raise ValueError(f"the lineage graph has a cycle through {node}")
        parents = incoming.get(node, [])
        layer[node] = 0 if not parents else 1 + max(depth(p, path | {node}) for p in parents)
        return layer[node]

    for node in graph.nodes:
        depth(node, frozenset())
    return layer


def layout(graph: Graph) -> dict[str, tuple[int, int]]:
    """(x, y) of each node: one row per layer, ordered by the mean position of the node's
    parents (a barycentre pass, fewer crossings), centred."""
    layers = _layers(graph)
    rows: dict[int, list[str]] = defaultdict(list)
    for node in graph.nodes:  # insertion order: departments, then along the stages
        rows[layers[node]].append(node)
    parents: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        parents[edge.target].append(edge.source)
    position: dict[str, float] = {}
    for depth in sorted(rows):
        row = rows[depth]
        for n, node in enumerate(row):
            position.setdefault(node, float(n))
        if depth > 0:

            def centre(node: str) -> float:
                above = [position[p] for p in parents[node] if p in position]
                return sum(above) / len(above) if above else position[node]

            row.sort(key=centre)
        for n, node in enumerate(row):
            position[node] = float(n) - (len(row) - 1) / 2
    widest = max((len(r) for r in rows.values()), default=1)
    places: dict[str, tuple[int, int]] = {}
    for depth, row in rows.items():
        offset = (widest - len(row)) * (NODE_WIDTH + GAP_X) // 2
        for n, node in enumerate(row):
            places[node] = (offset + n * (NODE_WIDTH + GAP_X), depth * (NODE_HEIGHT + GAP_Y))
    return places
