"""Accuracy and speed of :func:`standardize_address` on a corpus of legacy-spelled addresses.

The corpus is drawn, with a seed, from the real Japan Post rows of every prefecture: each
sampled row is written the way old registry systems write addresses (see
``address_corpus_forms`` for the categories) and carries the municipality code and region code
it must resolve to. Rows that are no 町域 (catch-all rows, office-tower floors), garbled names,
and rows of a split 町域 for which no address names that row alone are left out and counted.

With ``variants`` the addresses are also written in the harder spellings of
``address_corpus_variants`` (旧字体 from the whole variant table, every Kyoto direction form,
typos, per-floor codes of high-rise buildings).

Tuning and evaluation are kept apart by *row*: a fixed fifth of the Japan Post rows (by a hash
of code, postal code and 町域) forms the evaluation part, never looked at while tuning the
normalizer; the rest is the tuning part. ``renkei normalize corpus`` prints the figure of either
(the evaluation part by default); ``python -m renkei.normalize.address_corpus`` does the same.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from renkei.normalize.address_corpus_forms import AddressWriter, CorpusAddress
from renkei.normalize.address_corpus_rows import (
    PostalRow,
    RowTable,
    StreetPlan,
    load_rows,
    plan_street,
)
from renkei.normalize.address_corpus_variants import VariantWriter, tower_addresses
from renkei.normalize.address_index import AddressIndex, iter_postal_rows
from renkei.normalize.address_text import fold
from renkei.normalize.addresses import standardize_address
from renkei.normalize.errors import StandardizationError

__all__ = ["Corpus", "CorpusAddress", "CorpusReport", "build_corpus", "evaluate", "main"]

DEFAULT_SEED = 20260401
Part = Literal["tuning", "evaluation", "all"]
_EVALUATION_SHARE = 5  # one row in five is evaluation
TOWER_SHARE = 100  # one address in a hundred is in a per-floor building (with variants)


def part_of(municipality_code: str, postal_code: str, town: str) -> Part:
    """Which part a row belongs to: fixed by a hash, so the parts never mix."""
    digest = zlib.crc32(f"{municipality_code}:{postal_code}:{town}".encode())
    return "evaluation" if digest % _EVALUATION_SHARE == 0 else "tuning"


_AMBIGUOUS = "split 町域: no address names this row alone"
_SHADOWED = "row skipped: its name + 丁目 is another 町域 (稲荷町 + 3丁目)"


def _shadowed(row: PostalRow, plan: StreetPlan, table: RowTable) -> bool:
    """True when the 町域 name and the 丁目 written after it spell another 町域's name."""
    if plan.chome is None or not row.town:
        return False
    key = fold(f"{row.town}{plan.chome}")
    return any(
        other.startswith(key) and other != fold(row.town)
        for other in table.town_keys[row.municipality_code]
    )


@dataclass(frozen=True)
class Corpus:
    """Addresses to resolve, how many rows could be written, and the rows left out by reason
    (over the whole table) and the forms withheld as ambiguous (over the sample)."""

    addresses: tuple[CorpusAddress, ...]
    writable_rows: int
    left_out: dict[str, int]
    withheld_forms: dict[str, int]


@dataclass
class CorpusReport:
    """How many addresses resolved to the expected region code, by category, and how fast."""

    total: int = 0
    correct: int = 0
    refused: int = 0
    wrong: int = 0
    seconds: float = 0.0
    applied: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[CorpusAddress, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


def build_corpus(
    size: int,
    seed: int = DEFAULT_SEED,
    table: RowTable | None = None,
    *,
    part: Part = "all",
    variants: bool = False,
) -> Corpus:
    """``size`` addresses from as many rows sampled across all prefectures (deterministic),
    from the rows of ``part``; ``variants``: also the harder spellings (module docstring)."""
    table = table or load_rows(iter_postal_rows())
    rng = random.Random(seed)
    left_out = Counter(table.skipped)
    writable: list[PostalRow] = []
    known_plans: dict[int, StreetPlan] = {}  # a plan that works, for rows of split 町域
    for row in table.rows:
        if part != "all" and part_of(row.municipality_code, row.postal_code, row.town) != part:
            continue
        siblings = table.siblings[(row.municipality_code, row.town)]
        if len({s.postal_code for s in siblings}) > 1:
            plan = plan_street(row, siblings, rng)
            if plan is None:
                left_out[_AMBIGUOUS] += 1
                continue
            known_plans[id(row)] = plan
        writable.append(row)
    order = rng.sample(writable, len(writable))
    writer = AddressWriter(table, rng)
    rewriter = VariantWriter(rng) if variants else None
    addresses: list[CorpusAddress] = []
    if variants:
        towers = tower_addresses(iter_postal_rows(), rng, 10 * (size // TOWER_SHARE))
        towers = [
            a
            for a in towers
            if part == "all" or part_of(a.municipality_code, a.region_code[-7:], "") == part
        ]
        addresses += towers[: size // TOWER_SHARE]
    for row in itertools.islice(itertools.cycle(order), 2 * size + 100):
        if len(addresses) == size:
            break
        siblings = table.siblings[(row.municipality_code, row.town)]
        plan = plan_street(row, siblings, rng) or known_plans[id(row)]
        if _shadowed(row, plan, table):
            writer.withheld[_SHADOWED] += 1
            continue
        address = writer.write(row, plan)
        if rewriter is not None:
            address = rewriter.rewrite(address, row.town)
        addresses.append(address)
    return Corpus(tuple(addresses), len(writable), dict(left_out), dict(writer.withheld))


def evaluate(
    corpus: Corpus, index: AddressIndex | None = None, keep_failures: int = 50
) -> CorpusReport:
    """Resolve every corpus address; time only the resolution (not the index load)."""
    idx = index or AddressIndex.default()
    report = CorpusReport()
    started = time.perf_counter()
    outcomes: list[str] = []
    for address in corpus.addresses:
        try:
            got = standardize_address(address.text, address.postal_code, idx).region_code
        except StandardizationError as exc:
            got = f"refused: {exc.reason}"
        outcomes.append(got)
    report.seconds = time.perf_counter() - started
    for address, outcome in zip(corpus.addresses, outcomes, strict=True):
        report.total += 1
        report.applied.update(address.categories or ("plain",))
        if outcome == address.region_code:
            report.correct += 1
            continue
        report.failed.update(address.categories or ("plain",))
        if outcome.startswith("refused"):
            report.refused += 1
        else:
            report.wrong += 1
        if len(report.failures) < keep_failures:
            report.failures.append((address, outcome))
    return report


def resolution_rate(size: int = 3000, seed: int = DEFAULT_SEED) -> float:
    """Share of a corpus of ``size`` addresses resolved to the expected region code."""
    return evaluate(build_corpus(size, seed)).rate


def format_report(corpus: Corpus, report: CorpusReport, load_seconds: float) -> str:
    lines = [
        f"corpus: {report.total} addresses from {corpus.writable_rows} writable Japan Post rows",
        "rows left out (whole table):",
        *(f"  {count:>6}  {why}" for why, count in sorted(corpus.left_out.items())),
        "forms withheld as ambiguous (sample):",
        *(f"  {count:>6}  {why}" for why, count in sorted(corpus.withheld_forms.items())),
        f"resolved correctly: {report.correct}/{report.total} = {report.rate:.2%}"
        f" (refused {report.refused}, wrong code {report.wrong})",
        "by category:            applied   failed    rate",
    ]
    for category, applied in sorted(report.applied.items()):
        failed = report.failed[category]
        lines.append(f"  {category:<22}{applied:>7}{failed:>9}  {1 - failed / applied:.2%}")
    lines.append(
        f"speed: {report.per_second:,.0f} addresses/s "
        f"({report.seconds:.2f} s; index load {load_seconds:.1f} s, not counted)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", type=int, default=20000, help="addresses (default 20000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--show-failures", type=int, default=0, metavar="N")
    parser.add_argument("--part", choices=("evaluation", "tuning", "all"), default="evaluation")
    parser.add_argument("--plain", action="store_true", help="without the harder spellings")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    index = AddressIndex.default()
    load_seconds = time.perf_counter() - started
    corpus = build_corpus(args.size, args.seed, part=args.part, variants=not args.plain)
    report = evaluate(corpus, index, keep_failures=args.show_failures)
    print(format_report(corpus, report, load_seconds))
    for address, got in report.failures[: args.show_failures]:
        print(
            f"  FAIL {address.text!r} postal={address.postal_code} "
            f"expected={address.region_code} got={got} {address.categories}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
