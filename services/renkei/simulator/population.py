"""Synthetic residents and households (世帯) of one municipality, and the state they live in.

``SyntheticMunicipality`` is the simulation's world: every resident ever registered (so
relationships can still be traced through someone who has left), the active residents and
households, and the generators of addresses and identifiers. Residents are drawn from a
realistic age pyramid (``AGE_BANDS``); ``households.build_population`` arranges them into
households.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from renkei.simulator.addresses import Address, AddressMaker
from renkei.simulator.identifiers import IdentifierIssuer
from renkei.simulator.kinship import HEAD, relationship
from renkei.simulator.municipality import Municipality, OtherPlace
from renkei.simulator.names import KOREA, Name, Nationality, family_name, foreign_given_name
from renkei.simulator.names import given_name as japanese_given_name
from renkei.simulator.wareki import DateStyle

if TYPE_CHECKING:
    from renkei.simulator.care import CareState
    from renkei.simulator.checkups import HealthProfile

# Share of the population in 5-year bands 0–4 … 85–89, 90+ (Japan, about 2023):
# under 15 ≈ 11.5 %, 65 and over ≈ 29 %.
AGE_BANDS = (
    3.4,
    3.9,
    4.2,
    4.4,
    5.0,
    5.1,
    5.2,
    5.8,
    6.4,
    7.6,
    7.5,
    6.5,
    6.0,
    6.0,
    7.2,
    5.8,
    4.7,
    3.1,
    2.2,
)
# Share of women by band: more women at old age.
_FEMALE_SHARE = (0.49,) * 10 + (0.5, 0.5, 0.5, 0.51, 0.53, 0.56, 0.59, 0.65, 0.75)
_DATE_STYLES: tuple[DateStyle, ...] = ("iso", "kanji", "initial", "numeric")
_DATE_STYLE_WEIGHTS = (75, 12, 8, 5)
ACTIVE = "住民"


@dataclass(slots=True, eq=False)
class Resident:
    """One person in the registry, with the links that derive 続柄 and per-department state."""

    key: str
    family_name: Name
    given_name: Name
    birth_date: dt.date
    sex: str
    nationality: str | None = None
    foreign_status: str | None = None
    date_style: DateStyle = "iso"
    halfwidth_kana: bool = False
    mother: str | None = None
    father: str | None = None
    spouse: str | None = None
    spouse_unregistered: bool = False
    children: list[str] = field(default_factory=list)
    household: Household | None = None
    relationship: str = HEAD
    status: str = ACTIVE
    resident_since: dt.date | None = None
    last_registry_event: tuple[str, dt.date] | None = None
    protected_until: dt.date | None = None
    insured_number: str | None = None
    care: CareState | None = None
    health: HealthProfile | None = None
    last_checkup_year: int = 0

    @property
    def is_foreign(self) -> bool:
        return self.nationality is not None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def age_on(self, day: dt.date) -> int:
        """Age in full years on ``day``."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(slots=True, eq=False)
class Household:
    """A 世帯: its 世帯番号, address and members, head first."""

    number: str
    address: Address
    members: list[Resident]
    split_from: str | None = None

    @property
    def head(self) -> Resident:
        return self.members[0]


T = TypeVar("T")


class ActivePool(Generic[T]):
    """A set with O(1) add, remove and uniform random choice (swap-with-last removal)."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._index: dict[int, int] = {}

    def add(self, item: T) -> None:
        self._index[id(item)] = len(self._items)
        self._items.append(item)

    def remove(self, item: T) -> None:
        position = self._index.pop(id(item))
        last = self._items.pop()
        if last is not item:
            self._items[position] = last
            self._index[id(last)] = position

    def choice(self, rng: random.Random) -> T:
        return self._items[int(rng.random() * len(self._items))]

    def __contains__(self, item: T) -> bool:
        return id(item) in self._index

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)


@dataclass(eq=False)
class SyntheticMunicipality:
    """The simulated world of one municipality."""

    geography: Municipality
    issuer: IdentifierIssuer
    addresses: AddressMaker
    other_places: tuple[OtherPlace, ...]
    people: dict[str, Resident] = field(default_factory=dict)
    residents: ActivePool[Resident] = field(default_factory=ActivePool)
    households: ActivePool[Household] = field(default_factory=ActivePool)
    separated: ActivePool[Household] = field(default_factory=ActivePool)
    by_number: dict[str, Household] = field(default_factory=dict)

    def add_household(self, household: Household) -> None:
        """Track a new household (one made by 世帯分離 also as ``separated``)."""
        self.households.add(household)
        self.by_number[household.number] = household
        if household.split_from is not None:
            self.separated.add(household)

    def remove_household(self, household: Household) -> None:
        self.households.remove(household)
        del self.by_number[household.number]
        if household in self.separated:
            self.separated.remove(household)

    def register(self, person: Resident, household: Household) -> None:
        """Add an (already linked) person as an active member of ``household``."""
        self.people[person.key] = person
        person.household = household
        self.residents.add(person)

    def depart(self, person: Resident, status: str) -> Household | None:
        """Remove ``person`` (転出 / 死亡); returns the household if others remain in it."""
        person.status = status
        self.residents.remove(person)
        household = person.household
        person.household = None
        if household is None:
            return None
        household.members.remove(person)
        if not household.members:
            self.remove_household(household)
            return None
        return household

    def refresh_relationships(self, household: Household) -> list[Resident]:
        """Recompute 続柄 in ``household``; returns the members whose 続柄 changed."""
        head = household.head
        changed = []
        for member in household.members:
            new = relationship(head, member, self.people)
            if new != member.relationship:
                member.relationship = new
                changed.append(member)
        return changed


def random_birth_date(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date giving exactly ``age`` full years on ``on``."""
    latest = _years_before(on, age)
    earliest = _years_before(on, age + 1) + dt.timedelta(days=1)
    return earliest + dt.timedelta(days=rng.randrange((latest - earliest).days + 1))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def sample_age_sex(rng: random.Random) -> tuple[int, str]:
    """An (age, sex) pair from the age pyramid; 90+ spreads over 90–104 with a falling tail."""
    band = rng.choices(range(len(AGE_BANDS)), weights=AGE_BANDS)[0]
    age = (
        90 + min(14, int(rng.expovariate(0.3)))
        if band == len(AGE_BANDS) - 1
        else (band * 5 + rng.randrange(5))
    )
    sex = "2" if rng.random() < _FEMALE_SHARE[band] else "1"
    return age, sex


def make_japanese(
    rng: random.Random,
    issuer: IdentifierIssuer,
    sex: str,
    birth: dt.date,
    family: Name | None = None,
) -> Resident:
    """A Japanese resident (日本人住民); ``family`` shares a family name with relatives."""
    return Resident(
        key=issuer.resident_key(),
        family_name=family or family_name(rng),
        given_name=japanese_given_name(rng, sex, birth.year),
        birth_date=birth,
        sex=sex,
        date_style=rng.choices(_DATE_STYLES, weights=_DATE_STYLE_WEIGHTS)[0],
        halfwidth_kana=rng.random() < 0.15,
    )


def make_foreign(
    rng: random.Random,
    issuer: IdentifierIssuer,
    sex: str,
    birth: dt.date,
    country: Nationality,
    status: str,
    family: Name | None = None,
) -> Resident:
    """A foreign resident (外国人住民); birth dates are recorded in 西暦."""
    return Resident(
        key=issuer.resident_key(),
        family_name=family or rng.choice(country.family),
        given_name=foreign_given_name(rng, country, sex),
        birth_date=birth,
        sex=sex,
        nationality=country.name,
        foreign_status=status,
        halfwidth_kana=rng.random() < 0.1,
    )


def foreign_status_for(rng: random.Random, country: Nationality, birth: dt.date) -> str:
    """在留資格 class: 特別永住者 for most older Korean residents, otherwise 中長期在留者."""
    if country is KOREA and birth.year < 1975 and rng.random() < 0.8:
        return "特別永住者"
    return "中長期在留者"
