"""``renkei bench``: every figure on the same broker in the same run, median of the runs.

Order: L1 and L2 (looped passthrough), standardize (one worker, consecutive windows over a
backlog), then per run a fresh four-stage pipeline: the initial load's drain (pipeline
events/s), followed on the same workers by the latency window (freshness, alert → list) and
the latency window while a bulk load drains (``latency_bulk``, bench/bulk.py).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from renkei.bench.baselines import passthrough_windows, reencoder
from renkei.bench.bulk import during, start_bulk_load, worker_has_bulk_lanes
from renkei.bench.latency import LatencySamples, latency_window
from renkei.bench.report import machine, median_or_none, percentile, spread_percent
from renkei.bench.stages import (
    Window,
    delete_prefixed,
    fill_load,
    pipeline_drain,
    prepare_prefixed,
    record_hops,
    renamed,
    standardize_windows,
)
from renkei.bench.workers import WorkerPool
from renkei.bench.workload import Workload, initial_load, replicated
from renkei.contracts.stages import STAGES
from renkei.schemas.catalogue import Catalogue
from renkei.settings import Settings
from renkei.topics import ensure_topics

FIGURES = ("l1", "l2", "standardize", "pipeline", "latency", "latency_bulk")
LATENCY = ("latency", "latency_bulk")
SOURCE_TOPIC = "registry.resident.events"
PIPELINE = tuple(name for name, spec in STAGES.items() if spec.topics_from != "agreements")
"""The stages a department record passes through (the stage registry, without the views)."""
PIPELINE_OUTPUTS = [t for name in PIPELINE[1:] for t in STAGES[name].outputs]
"""What the drain waits on: the linkage stages' outputs."""
Echo = Callable[[str], None]


@dataclass(frozen=True)
class BenchOptions:
    runs: int = 3
    duration: float = 30.0
    warmup: float = 5.0
    only: tuple[str, ...] = FIGURES
    residents: int = 10_000
    municipality: str = "133621"
    rate: float = 100.0
    alert_every: float = 2.0
    std_records: int | None = None
    baseline_records: int = 20_000
    web_port_base: int = 7066
    worker_python: Path | None = None
    keep_topics: bool = False


async def run_suite(
    settings: Settings, catalogue: Catalogue, opts: BenchOptions, echo: Echo
) -> dict[str, Any]:
    started = time.monotonic()
    echo(f"preparing {opts.residents} residents in {opts.municipality}…")
    windows = sum(name in opts.only for name in LATENCY)
    changes = windows * (int(opts.duration * opts.rate * 1.1) + 10)
    workload = await initial_load(
        settings, catalogue, opts.residents, opts.municipality, changes=changes
    )
    bulk = None
    results: dict[str, Any] = {"machine": machine(), "parameters": _parameters(opts, workload)}
    if "latency_bulk" in opts.only:
        echo(f"preparing a bulk load of {opts.residents} other residents…")
        # other residents of the same region (another seed): new records for every stage
        bulk = await initial_load(settings, catalogue, opts.residents, opts.municipality, seed=2)
        lanes = worker_has_bulk_lanes(opts.worker_python)
        results["bulk_load_to"] = (
            "bulk lanes (<topic>.bulk)"
            if lanes
            else "live topics (the workers have no bulk inputs: no lanes)"
        )
    runs: dict[str, list[float | None]] = {}
    warnings: list[str] = []
    if "l1" in opts.only or "l2" in opts.only:
        runs.update(await _baselines(settings, catalogue, opts, workload, echo))
    if "standardize" in opts.only:
        l2 = median_or_none(runs.get("l2_events_per_s", []))
        std, std_warnings = await _standardize(settings, catalogue, opts, workload, l2, echo)
        runs.update(std)
        warnings += std_warnings
    if "pipeline" in opts.only or any(name in opts.only for name in LATENCY):
        pipeline_runs, pipeline_warnings = await _pipelines(
            settings, catalogue, opts, workload, bulk, echo
        )
        runs.update(pipeline_runs)
        warnings += pipeline_warnings
    results.update(_summary(runs))
    results["warnings"] = warnings
    results["elapsed_s"] = round(time.monotonic() - started, 1)
    return results


def _parameters(opts: BenchOptions, workload: Workload) -> dict[str, Any]:
    params = asdict(opts)
    params["only"] = ",".join(opts.only)
    params["worker_python"] = str(opts.worker_python) if opts.worker_python else None
    params["load_records"] = workload.records
    params["region_codes"] = len(workload.region_codes)
    return params


def _summary(runs: dict[str, list[float | None]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs_detail": {}}
    for name, values in runs.items():
        known = [v for v in values if v is not None]
        out["runs_detail"][name] = [round(v, 1) for v in known]
        out[name] = round(statistics.median(known), 1) if known else None
        out.setdefault("spread_percent", {})[name] = spread_percent(known)
    std, l2 = out.get("standardize_events_per_s"), out.get("l2_events_per_s")
    out["standardize_vs_l2_percent"] = round(100 * std / l2, 1) if std and l2 else None
    hop, l2_cpu = out.get("pipeline_cpu_ms_per_hop"), out.get("l2_cpu_ms_per_1k")
    out["pipeline_hop_cpu_vs_l2"] = round(1000 * hop / l2_cpu, 1) if hop and l2_cpu else None
    return out


async def _baselines(
    settings: Settings, catalogue: Catalogue, opts: BenchOptions, workload: Workload, echo: Echo
) -> dict[str, list[float | None]]:
    spec = catalogue.get(SOURCE_TOPIC)
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    src = prefix + "src"
    await ensure_topics(settings, [renamed(spec, t) for t in (src, prefix + "l1", prefix + "l2")])
    values = replicated(workload.load[SOURCE_TOPIC], opts.baseline_records)
    from renkei.bench.baselines import fill

    await fill(settings, src, values)
    out: dict[str, list[float | None]] = {}
    for name, transform in (("l1", None), ("l2", reencoder(spec.schema))):
        if name not in opts.only:
            continue
        echo(f"{name.upper()}: {opts.runs} windows of {opts.duration:g} s…")
        measured = await passthrough_windows(
            settings,
            src,
            prefix + name,
            windows=opts.runs,
            duration=opts.duration,
            warmup=min(opts.warmup, 3.0),
            transform=transform,
            name=name.upper(),
        )
        out[f"{name}_events_per_s"] = [t.per_second for t in measured]
        out[f"{name}_cpu_ms_per_1k"] = [
            1e6 * t.cpu_s / t.events if t.events else None for t in measured
        ]
        echo(f"  {', '.join(f'{t.per_second:,.0f}/s' for t in measured)}")
    if not opts.keep_topics:
        await delete_prefixed(settings, prefix)
    return out


async def _standardize(
    settings: Settings,
    catalogue: Catalogue,
    opts: BenchOptions,
    workload: Workload,
    l2_rate: float | None,
    echo: Echo,
) -> tuple[dict[str, list[float | None]], list[str]]:
    guess = min(0.6 * l2_rate, 12_000.0) if l2_rate else 8_000.0
    wanted = opts.std_records or int(guess * (opts.warmup + opts.runs * opts.duration + 15))
    factor = max(1, -(-wanted // max(workload.records, 1)))
    backlog = {t: replicated(v, len(v) * factor) for t, v in workload.load.items()}
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    echo(f"standardize: backlog of {workload.records * factor:,} records…")
    await prepare_prefixed(settings, catalogue, prefix, opts.worker_python)
    inputs = await fill_load(settings, backlog, prefix)
    pool = WorkerPool(prefix, settings.home / "logs", opts.web_port_base, opts.worker_python)
    try:
        windows = await standardize_windows(
            settings,
            pool,
            [f"std.{t}" for t in backlog],
            inputs,
            windows=opts.runs,
            duration=opts.duration,
            warmup=opts.warmup,
        )
    finally:
        pool.stop_all()
        pool.remove_home()
        if not opts.keep_topics:
            await delete_prefixed(settings, prefix)
    rates: list[float | None] = [w.throughput.per_second for w in windows]
    cpu: list[float | None] = [w.cpu_ms_per_1k for w in windows]
    echo(f"  {', '.join(f'{r:,.0f}/s' for r in rates if r)}")
    warnings = [
        f"standardize window {n} ran out of backlog after {w.throughput.seconds:.1f} s "
        "(raise --std-records)"
        for n, w in enumerate(windows, 1)
        if w.truncated
    ]
    return {"standardize_events_per_s": rates, "standardize_cpu_ms_per_1k": cpu}, warnings


async def _pipelines(
    settings: Settings,
    catalogue: Catalogue,
    opts: BenchOptions,
    workload: Workload,
    bulk: Workload | None,
    echo: Echo,
) -> tuple[dict[str, list[float | None]], list[str]]:
    out: dict[str, list[float | None]] = {}
    warnings: list[str] = []
    for number in range(1, opts.runs + 1):
        drain, hops, samples, during_bulk = await _pipeline_run(
            settings, catalogue, opts, workload, bulk, echo
        )
        throughput, span = drain.throughput, drain.throughput.seconds
        total_hops = sum(hops.values())
        by_stage = drain.cpu_by_stage or {}
        figures = {
            "pipeline_events_per_s": throughput.per_second,
            "pipeline_span_s": span,
            "pipeline_cpu_ms_per_1k": drain.cpu_ms_per_1k,
            "pipeline_hops_per_record": total_hops / throughput.events
            if throughput.events
            else None,
            "pipeline_cpu_ms_per_hop": 1000 * drain.cpu_s / total_hops if total_hops else None,
            **{f"pipeline_cpu_s_{stage}": seconds for stage, seconds in by_stage.items()},
            **{
                f"pipeline_cpu_ms_per_hop_{stage}": 1000 * by_stage[stage] / n if n else None
                for stage, n in hops.items()
                if stage in by_stage
            },
            "freshness_p50_ms": percentile(samples.freshness_ms, 50) if samples else None,
            "freshness_p99_ms": percentile(samples.freshness_ms, 99) if samples else None,
            "evacuation_list_p50_ms": percentile(samples.list_ms, 50) if samples else None,
            "evacuation_list_p99_ms": percentile(samples.list_ms, 99) if samples else None,
        }
        if during_bulk is not None:
            figures.update(during_bulk.figures())
            warnings += during_bulk.warnings(number)
            echo(f"run {number}/{opts.runs}: during a bulk load: {during_bulk.describe()}")
        for name, value in figures.items():
            out.setdefault(name, []).append(value)
        if span < opts.duration:
            warnings.append(
                f"pipeline run {number}: the load drained in {span:.1f} s < --duration "
                f"{opts.duration:g} s (raise --residents)"
            )
        if samples is not None:
            warnings += _sample_warnings(number, samples)
        echo(
            f"run {number}/{opts.runs}: pipeline {throughput.per_second:,.0f}/s over {span:.1f} s"
            + (
                f"; freshness p99 {figures['freshness_p99_ms'] or 0:,.0f} ms "
                f"({len(samples.freshness_ms)}/{samples.published}); list p99 "
                f"{figures['evacuation_list_p99_ms'] or 0:,.0f} ms "
                f"({len(samples.list_ms)}/{samples.alerts})"
                if samples
                else ""
            )
        )
    return out, warnings


def _sample_warnings(number: int, samples: LatencySamples) -> list[str]:
    if len(samples.list_ms) < samples.alerts:
        return [f"run {number}: {samples.alerts - len(samples.list_ms)} alert(s) got no list"]
    return []


def consumed_topics(catalogue: Catalogue) -> dict[str, list[str]]:
    """Per pipeline stage, the topics it consumes (contract names): catalogue inputs and its
    own internal topics (the household loop, the re-keyed facts)."""
    return {
        name: [
            *STAGES[name].contract_inputs(catalogue),
            *(STAGES[name].internal_topic(suffix) for suffix in STAGES[name].internal_topics),
        ]
        for name in PIPELINE
    }


@dataclass
class DuringBulk:
    """Latency samples of one window run while a bulk load drained (bench/bulk.py)."""

    samples: LatencySamples
    drain_s: float | None
    drained: bool
    started: float = 0.0
    """When the first bulk record was written (epoch s)."""

    def figures(self) -> dict[str, float | None]:
        s, until = self.samples, None
        if self.drained and self.drain_s is not None:
            until = self.started + self.drain_s
        fresh = during(s.freshness_ms, s.freshness_sent, until)
        lists = during(s.list_ms, s.list_sent, until)
        return {
            "freshness_p50_ms_bulk": percentile(fresh, 50),
            "freshness_p99_ms_bulk": percentile(fresh, 99),
            "evacuation_list_p50_ms_bulk": percentile(lists, 50),
            "evacuation_list_p99_ms_bulk": percentile(lists, 99),
            "bulk_drain_s": self.drain_s,
            "bulk_drained": 1.0 if self.drained else 0.0,
            "bulk_freshness_samples": float(len(fresh)),
            "bulk_list_samples": float(len(lists)),
        }

    def warnings(self, number: int) -> list[str]:
        found = self.figures()
        out = []
        if not found["bulk_freshness_samples"]:
            out.append(f"run {number}: no live event was published while the bulk load drained")
        if not self.drained:
            out.append(
                f"run {number}: the bulk load had not drained when the latency window ended "
                "(every sample counts as during the load)"
            )
        return out

    def describe(self) -> str:
        f = self.figures()
        drained = f"drained in {self.drain_s:.1f} s" if self.drained else "not drained"
        return (
            f"load {drained}; freshness p99 {f['freshness_p99_ms_bulk'] or 0:,.0f} ms "
            f"({f['bulk_freshness_samples']:.0f} events); list p99 "
            f"{f['evacuation_list_p99_ms_bulk'] or 0:,.0f} ms ({f['bulk_list_samples']:.0f})"
        )


async def _pipeline_run(
    settings: Settings,
    catalogue: Catalogue,
    opts: BenchOptions,
    workload: Workload,
    bulk: Workload | None,
    echo: Echo,
) -> tuple[Window, dict[str, int], LatencySamples | None, DuringBulk | None]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    await prepare_prefixed(settings, catalogue, prefix, opts.worker_python)
    inputs = await fill_load(settings, workload.load, prefix)
    pool = WorkerPool(prefix, settings.home / "logs", opts.web_port_base, opts.worker_python)
    half = len(workload.changes) // 2 if "latency" in opts.only and bulk else 0
    quiet = replace(workload, changes=workload.changes[:half] if half else workload.changes)
    loaded = replace(workload, changes=workload.changes[half:])
    window = {"duration": opts.duration, "rate": opts.rate, "alert_every": opts.alert_every}
    try:
        pool.start_all(PIPELINE)
        groups = {
            prefix + STAGES[stage].group(): [prefix + topic for topic in topics]
            for stage, topics in consumed_topics(catalogue).items()
        }
        # complete once every group committed what it consumes and every resident of the
        # load has a unified.resident record
        drain = await pipeline_drain(
            settings,
            pool,
            PIPELINE_OUTPUTS,
            inputs,
            quiet_s=8.0,
            groups=groups,
            at_least=("unified.resident", opts.residents),
        )
        hops = await record_hops(settings, prefix, consumed_topics(catalogue))
        samples = None
        if "latency" in opts.only:
            samples = await latency_window(settings, catalogue, pool, quiet, **window)
        during_bulk = None
        if bulk is not None:
            lanes = worker_has_bulk_lanes(opts.worker_python)
            echo(
                f"  bulk load of {bulk.records:,} records to the {'bulk' if lanes else 'live'}"
                " topics, latency window at once…"
            )
            watch, task = await start_bulk_load(settings, catalogue, prefix, bulk, lanes)
            try:
                loaded_samples = await latency_window(settings, catalogue, pool, loaded, **window)
            finally:
                watch.stop()
                await task
            drained = watch.drained_at is not None
            end = watch.drained_at if drained else None
            during_bulk = DuringBulk(
                loaded_samples,
                round((end or time.time()) - watch.started, 1),
                drained,
                started=watch.started,
            )
        return drain, hops, samples, during_bulk
    finally:
        pool.stop_all()
        pool.remove_home()
        if not opts.keep_topics:
            await delete_prefixed(settings, prefix)
