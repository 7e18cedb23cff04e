"""Accuracy and speed of :func:`standardize_address` on a corpus of legacy-spelled addresses.

The corpus is drawn, with a seed, from the real Japan Post rows of every prefecture: each
sampled row is written the way old registry systems write addresses (see
``address_corpus_forms`` for the categories) and carries the municipality code and region code
it must resolve to. Rows that are no 町域 (catch-all rows, office-tower floors), garbled names,
and rows of a split 町域 for which no address names that row alone are left out and counted.

Run ``python -m renkei.normalize.address_corpus --size 20000`` for the resolution rate,
failures by category and addresses per second.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from renkei.normalize.address_corpus_forms import AddressWriter, CorpusAddress
from renkei.normalize.address_corpus_rows import (
    PostalRow,
    RowTable,
    StreetPlan,
    load_rows,
    plan_street,
)
from renkei.normalize.address_index import AddressIndex, iter_postal_rows
from renkei.normalize.address_text import fold
from renkei.normalize.addresses import standardize_address
from renkei.normalize.errors import StandardizationError

__all__ = ["Corpus", "CorpusAddress", "CorpusReport", "build_corpus", "evaluate", "main"]

DEFAULT_SEED = 20260401
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


def build_corpus(size: int, seed: int = DEFAULT_SEED, table: RowTable | None = None) -> Corpus:
    """``size`` addresses from as many rows sampled across all prefectures (deterministic)."""
    table = table or load_rows(iter_postal_rows())
    rng = random.Random(seed)
    left_out = Counter(table.skipped)
    writable: list[PostalRow] = []
    known_plans: dict[int, StreetPlan] = {}  # a plan that works, for rows of split 町域
    for row in table.rows:
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
    addresses: list[CorpusAddress] = []
    for row in itertools.islice(itertools.cycle(order), 2 * size + 100):
        if len(addresses) == size:
            break
        siblings = table.siblings[(row.municipality_code, row.town)]
        plan = plan_street(row, siblings, rng) or known_plans[id(row)]
        if _shadowed(row, plan, table):
            writer.withheld[_SHADOWED] += 1
            continue
        addresses.append(writer.write(row, plan))
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
    args = parser.parse_args(argv)
    started = time.perf_counter()
    index = AddressIndex.default()
    load_seconds = time.perf_counter() - started
    corpus = build_corpus(args.size, args.seed)
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
