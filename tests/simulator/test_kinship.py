"""続柄 derived from the family graph, in the standard's chained form (never 孫)."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from renkei.simulator.households import add_child, marry
from renkei.simulator.identifiers import IdentifierIssuer
from renkei.simulator.kinship import relationship
from renkei.simulator.population import Resident, make_japanese

ISSUER = IdentifierIssuer(random.Random(0))
RNG = random.Random(1)


def person(sex: str, year: int) -> Resident:
    return make_japanese(RNG, ISSUER, sex, dt.date(year, 5, 1))


def wed(a: Resident, b: Resident) -> None:
    a.spouse, b.spouse = b.key, a.key


def test_family_terms_chain_with_no() -> None:
    head, wife = person("1", 1950), person("2", 1952)
    son, daughter = person("1", 1978), person("2", 1982)
    sons_wife, grandchild = person("2", 1980), person("1", 2010)
    wed(head, wife)
    wed(son, sons_wife)
    for child in (son, daughter):
        add_child(child, wife, head)
    add_child(grandchild, sons_wife, son)
    people = {p.key: p for p in (head, wife, son, daughter, sons_wife, grandchild)}
    assert relationship(head, head, people) == "世帯主"
    assert relationship(head, wife, people) == "妻"
    assert relationship(head, son, people) == "子"
    assert relationship(head, sons_wife, people) == "子の妻"
    assert relationship(head, grandchild, people) == "子の子"
    # the son becomes head: his parents are 父 / 母, his sister 妹, his child 子
    assert relationship(son, head, people) == "父"
    assert relationship(son, wife, people) == "母"
    assert relationship(son, daughter, people) == "妹"
    assert relationship(son, grandchild, people) == "子"
    assert relationship(daughter, son, people) == "兄"


def test_unregistered_spouse_and_unrelated_lodger() -> None:
    head, partner, lodger = person("1", 1985), person("2", 1987), person("1", 1990)
    marry(head, partner, random.Random(0))
    head.spouse_unregistered = partner.spouse_unregistered = True
    people = {p.key: p for p in (head, partner, lodger)}
    assert relationship(head, partner, people) == "妻（未届）"
    assert relationship(head, lodger, people) == "同居人"


def test_more_than_four_terms_is_a_distant_relative() -> None:
    chain = [person("1", 1930 + 5 * i) for i in range(6)]
    for parent, child in itertools.pairwise(chain):
        add_child(child, None, parent)
    people = {p.key: p for p in chain}
    assert relationship(chain[0], chain[4], people) == "子の子の子の子"
    assert relationship(chain[0], chain[5], people) == "縁故者"
