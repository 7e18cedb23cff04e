"""続柄 (relationship to the head of household), derived from a small family graph.

The 住民記録 standard writes relationships as a base term chained with の, up to four terms
(子の子, 子の妻, 父の母 …; never 孫, 祖父, おじ); five or more terms give 縁故者 and no kinship
gives 同居人. Residents here carry their parents, spouse and children; the relationship is the
shortest path from the head through those links, with 父の子 / 母の子 collapsed into 兄 / 姉 /
弟 / 妹 and an unregistered spouse written 妻（未届）/ 夫（未届）.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping
from typing import Protocol

HEAD = "世帯主"
LODGER = "同居人"
DISTANT = "縁故者"
_MAX_TERMS = 4
_MAX_EDGES = 6


class Kin(Protocol):
    """What the derivation needs to know about a person."""

    key: str
    sex: str
    birth_date: dt.date
    mother: str | None
    father: str | None
    spouse: str | None
    spouse_unregistered: bool
    children: list[str]


def _edges(person: Kin) -> list[tuple[str, str]]:
    """(kind, key) links in preference order: spouse, children, parents."""
    edges: list[tuple[str, str]] = []
    if person.spouse:
        edges.append(("spouse", person.spouse))
    edges.extend(("child", child) for child in person.children)
    if person.father:
        edges.append(("parent", person.father))
    if person.mother:
        edges.append(("parent", person.mother))
    return edges


def _shortest_path(head: Kin, target: str, people: Mapping[str, Kin]) -> list[tuple[str, Kin]]:
    """Links from ``head`` to ``target`` as (kind, person) pairs; empty when not related."""
    queue: deque[tuple[Kin, list[tuple[str, Kin]]]] = deque([(head, [])])
    seen = {head.key}
    while queue:
        person, path = queue.popleft()
        if len(path) >= _MAX_EDGES:
            continue
        for kind, key in _edges(person):
            other = people.get(key)
            if other is None or key in seen:
                continue
            step = [*path, (kind, other)]
            if key == target:
                return step
            seen.add(key)
            queue.append((other, step))
    return []


def _term(kind: str, person: Kin) -> str:
    if kind == "child":
        return "子"
    male = person.sex == "1"
    if kind == "spouse":
        return "夫" if male else "妻"
    return "父" if male else "母"


def _sibling(reference: Kin, sibling: Kin) -> str:
    older = sibling.birth_date < reference.birth_date
    if sibling.sex == "1":
        return "兄" if older else "弟"
    return "姉" if older else "妹"


def _terms(head: Kin, path: list[tuple[str, Kin]]) -> list[str]:
    """Chain terms for ``path``, collapsing parent → child into a sibling term."""
    terms: list[str] = []
    previous = head
    i = 0
    while i < len(path):
        kind, person = path[i]
        if kind == "parent" and i + 1 < len(path) and path[i + 1][0] == "child":
            sibling = path[i + 1][1]
            terms.append(_sibling(previous, sibling))
            previous = sibling
            i += 2
            continue
        terms.append(_term(kind, person))
        previous = person
        i += 1
    return terms


def relationship(head: Kin, member: Kin, people: Mapping[str, Kin]) -> str:
    """The 続柄 of ``member`` in the household headed by ``head`` (e.g. 子の妻, 母, 同居人)."""
    if member.key == head.key:
        return HEAD
    path = _shortest_path(head, member.key, people)
    if not path:
        return LODGER
    terms = _terms(head, path)
    if len(terms) > _MAX_TERMS:
        return DISTANT
    text = "の".join(terms)
    if len(path) == 1 and path[0][0] == "spouse" and member.spouse_unregistered:
        return f"{text}（未届）"
    return text
