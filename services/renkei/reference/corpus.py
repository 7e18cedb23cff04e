"""Old names on the corpus: addresses written with the name of a retired municipality or ward.

Every Japan Post row of a retired municipality that the release keeps (``postal-history``) is
written as a registry would have written it (``静岡県浜松市中区元城町12番地``) and resolved twice,
as of a date before the change and a date after it. Expected: before, the old code; after, the
code in force then; both times today's code (the ward whose current rows list the same postal
code and 町域). ``renkei ref corpus`` prints the figure.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from renkei.normalize.errors import StandardizationError
from renkei.reference.release import ReferenceRelease
from renkei.reference.snapshot import ReferenceSnapshot, resolve_address

__all__ = ["OldNameCase", "evaluate_old_names", "old_name_cases"]


@dataclass(frozen=True, slots=True)
class OldNameCase:
    text: str
    on: dt.date
    region_code: str  # with the code in force on ``on``
    current_region_code: str


def old_name_cases(release: ReferenceRelease, seed: int = 20261207) -> list[OldNameCase]:
    """Two cases (before and after the change) per retired 町域 with one postal code that
    today's rows also list."""
    rng = random.Random(seed)
    cases: list[OldNameCase] = []
    codes_of: dict[tuple[str, str], set[str]] = {}
    for postal_code, rows in release.postal.items():
        for row in rows:
            if row.valid_to is not None:
                codes_of.setdefault((row.municipality_code, row.town), set()).add(postal_code)
    for postal_code, rows in release.postal.items():
        current = {r.town: r.municipality_code for r in rows if r.valid_to is None and r.town}
        for row in rows:
            if row.valid_to is None or not row.town or row.town not in current:
                continue
            if any(ch in row.town for ch in "()（）、〜") or "階" in (row.note or ""):
                continue  # lists, ranges and building floors are written otherwise
            if len(codes_of[(row.municipality_code, row.town)]) > 1:
                continue  # a 町域 split by 番地 ranges: a random 番地 names no one row
            today = current[row.town]
            text = f"{row.prefecture}{row.city}{row.town}{rng.randint(1, 2000)}番地"
            before = row.valid_to - dt.timedelta(days=rng.randint(1, 3000))
            after = row.valid_to + dt.timedelta(days=rng.randint(1, 600))
            cases.append(
                OldNameCase(
                    text, before, f"{row.municipality_code}:{postal_code}", f"{today}:{postal_code}"
                )
            )
            cases.append(
                OldNameCase(text, after, f"{today}:{postal_code}", f"{today}:{postal_code}")
            )
    return cases


def evaluate_old_names(
    snapshot: ReferenceSnapshot, cases: list[OldNameCase]
) -> tuple[int, list[tuple[OldNameCase, str]]]:
    """How many cases resolve to both expected codes, and the failures."""
    correct, failures = 0, []
    for case in cases:
        try:
            got = resolve_address(case.text, None, case.on, snapshot)
            outcome = f"{got.address.region_code} / {got.current_region_code}"
        except StandardizationError as exc:
            outcome = f"refused: {exc.reason}"
        if outcome == f"{case.region_code} / {case.current_region_code}":
            correct += 1
        else:
            failures.append((case, outcome))
    return correct, failures
