"""Figures of a bench run: machine description, percentiles, medians, the people's table."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """nproc, CPU model, RAM and Python of this machine (the broker runs on it too)."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    ram_gib = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "nproc": os.cpu_count() or 1,
        "cpu_model": cpu,
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The ``q`` percentile (0–100, inclusive method); None without samples."""
    if not samples:
        return None
    if len(samples) == 1:
        return float(samples[0])
    cut = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return float(cut[max(0, min(98, round(q) - 1))])


def median_or_none(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def spread_percent(values: Sequence[float]) -> float | None:
    """(max − min) / median of the runs, in percent: the noise between runs."""
    if len(values) < 2 or not statistics.median(values):
        return None
    return round(100 * (max(values) - min(values)) / statistics.median(values), 1)


def table(results: dict[str, Any]) -> list[str]:
    """The lines people read: one per figure, median and every run."""
    lines = [
        "machine: {nproc} cores, {cpu_model}, {ram_gib} GiB, Python {python}, "
        "load {load_average_1m}".format(**results["machine"]),
        "parameters: " + ", ".join(f"{k}={v}" for k, v in results["parameters"].items()),
        f"{'figure':<22}{'median':>12}  runs",
    ]
    for name, unit in ROWS:
        value = results.get(name)
        if value is None:
            continue
        runs = results.get("runs_detail", {}).get(name, [])
        shown = ", ".join(_fmt(v) for v in runs)
        lines.append(f"{name:<22}{_fmt(value):>12}  {unit}  [{shown}]")
    for name in sorted(results):
        if name.startswith("pipeline_cpu_ms_per_hop_") and results[name] is not None:
            lines.append(f"{name:<22}{_fmt(results[name]):>12}  CPU ms per hop of this stage")
    if results.get("bulk_load_to"):
        lines.append(f"bulk load to the {results['bulk_load_to']}")
    if results.get("standardize_vs_l2_percent") is not None:
        lines.append(f"standardize = {results['standardize_vs_l2_percent']} % of L2")
    for warning in results.get("warnings", []):
        lines.append(f"warning: {warning}")
    return lines


ROWS = (
    ("l1_events_per_s", "events/s"),
    ("l2_events_per_s", "events/s"),
    ("l2_cpu_ms_per_1k", "CPU ms per 1k events (bench process)"),
    ("standardize_events_per_s", "events/s"),
    ("standardize_cpu_ms_per_1k", "CPU ms per 1k events"),
    ("pipeline_events_per_s", "events/s"),
    ("pipeline_span_s", "s"),
    ("pipeline_cpu_ms_per_1k", "CPU ms per 1k events (4 workers)"),
    ("pipeline_hops_per_record", "consume → produce hops per department record"),
    ("pipeline_cpu_ms_per_hop", "CPU ms per record-hop (4 workers)"),
    ("pipeline_hop_cpu_vs_l2", "× L2's CPU per record"),
    ("freshness_p50_ms", "ms"),
    ("freshness_p99_ms", "ms"),
    ("evacuation_list_p50_ms", "ms"),
    ("evacuation_list_p99_ms", "ms"),
    ("freshness_p50_ms_bulk", "ms, while a bulk load drains"),
    ("freshness_p99_ms_bulk", "ms, while a bulk load drains"),
    ("evacuation_list_p50_ms_bulk", "ms, while a bulk load drains"),
    ("evacuation_list_p99_ms_bulk", "ms, while a bulk load drains"),
    ("bulk_drain_s", "s for the bulk load to drain (standardize + resident)"),
)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) < 1:
        return f"{value:.3f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
