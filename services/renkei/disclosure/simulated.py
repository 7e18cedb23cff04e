"""Microdata of a simulated municipality (``renkei simulate``'s world), without Kafka.

For ``renkei disclosure measure`` and the tests: the audit and the loss of accuracy on the
simulator's municipality and on a large one, computed from the same people the simulator
publishes. Checkups (fiscal year, メタボ判定) and care levels are taken from the simulator's own
department events; 要介護3–5 stands in for the resident stage's evacuation-support candidacy.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from renkei.disclosure.microdata import Person
from renkei.simulator import Simulation

_CANDIDATE_CARE_LEVELS = {"23", "24", "25"}


def simulated_people(
    municipality: str, residents: int, events: int = 0, seed: int = 7
) -> tuple[list[Person], dt.date]:
    """(the residing people after the run, the reference date: the last event's date)."""
    simulation = Simulation(municipality, residents=residents, events=events, seed=seed)
    checkups: dict[str, dict[str, Any]] = {}
    care: dict[str, str] = {}
    last = simulation.start
    for event in simulation:
        value = event.value
        last = max(last, dt.date.fromisoformat(str(value["effective_date"])[:10]))
        if event.topic == "health.checkup.results":
            checkups[event.key] = value
        elif event.topic == "welfare.care.certifications":
            care[event.key] = str(value.get("care_level_code") or "")
    people = []
    for person in simulation.world.residents:
        household = person.household
        if household is None:
            continue
        town = household.address.town
        protected = person.protected_until is not None and person.protected_until >= last
        checkup = checkups.get(person.key) or {}
        people.append(
            Person(
                record_key=person.key,
                municipality=town.municipality_code,
                town=None if protected else town.region_code,
                age=person.age_on(last),
                head=household.head is person,
                child_household=any(m.age_on(last) < 15 for m in household.members),
                candidate=care.get(person.key) in _CANDIDATE_CARE_LEVELS,
                checkup_fy=checkup.get("fiscal_year"),
                metabolic=checkup.get("metabolic_syndrome"),
            )
        )
    return people, last
