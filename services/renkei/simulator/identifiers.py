"""Synthetic identifiers: 団体内統合宛名番号, 世帯番号, 介護保険被保険者番号 and event UUIDs.

None of them is ever 12 bare digits, so none can be mistaken for a 個人番号 (My Number):
resident keys are 15 digits, household numbers 10, insured numbers 10.
"""

from __future__ import annotations

import random
import uuid

RESIDENT_KEY_DIGITS = 15
HOUSEHOLD_NUMBER_DIGITS = 10
INSURED_NUMBER_DIGITS = 10


def modulus11_check_digit(body: str) -> int:
    """宛名番号 / 世帯番号 check digit: modulus 11, weights 2–7 repeating from the rightmost digit.

    Remainder 0 gives 0; otherwise 11 − remainder, whose last digit is used when it is 10
    (remainder 1 → 0; DOMAIN.md only confirms remainder 0 → 0).
    """
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    remainder = total % 11
    return 0 if remainder == 0 else (11 - remainder) % 10


def _with_check_digit(serial: int, digits: int) -> str:
    body = f"{serial:0{digits - 1}d}"
    return f"{body}{modulus11_check_digit(body)}"


class IdentifierIssuer:
    """Hands out identifiers in the order a municipality would: serial numbers from a base.

    The base is drawn from the seeded generator, so different seeds give different numbers.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._next_resident = rng.randrange(10_000_000, 90_000_000)
        self._next_household = rng.randrange(1_000_000, 9_000_000)
        self._next_insured = rng.randrange(10_000_000, 90_000_000)

    def resident_key(self) -> str:
        """A 15-digit zero-padded 団体内統合宛名番号 ending in its check digit."""
        self._next_resident += 1
        return _with_check_digit(self._next_resident, RESIDENT_KEY_DIGITS)

    def household_number(self) -> str:
        """A 10-digit 世帯番号 ending in its check digit."""
        self._next_household += 1
        return _with_check_digit(self._next_household, HOUSEHOLD_NUMBER_DIGITS)

    def insured_number(self) -> str:
        """A 10-digit 介護保険被保険者番号."""
        self._next_insured += 1
        return f"{self._next_insured:0{INSURED_NUMBER_DIGITS}d}"

    def event_id(self) -> str:
        """A version-4 UUID drawn from the seeded generator (never from the OS)."""
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
