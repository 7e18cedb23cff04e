"""``renkei demo``: the whole platform on the local stack, with a live console summary."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time

import click

from renkei.cli.common import catalogue_of, run, settings_of
from renkei.cli.demo_monitor import Monitor, Picture, render
from renkei.cli.schemas_cmd import apply
from renkei.cli.simulate_cmd import DEFAULT_MUNICIPALITY
from renkei.cli.stack_cmd import stack
from renkei.settings import Settings
from renkei.stack import stack_status, stop_stack


@click.command("demo")
@click.option(
    "--municipality",
    default=DEFAULT_MUNICIPALITY,
    show_default=True,
    help="Municipality code to simulate (6 digits with check digit).",
)
@click.option(
    "--residents",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Residents in the initial snapshot.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Change events per second after the snapshot.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=10),
    default=None,
    help="Stop after S seconds (default: run until Ctrl-C).",
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave the stack running at the end even if the demo started it.",
)
@click.pass_context
def demo(
    ctx: click.Context,
    municipality: str,
    residents: int,
    rate: float,
    duration: float | None,
    seed: int,
    keep_running: bool,
) -> None:
    """Run the whole platform: stack, schemas, every stage, the simulator, a live summary.

    1. `renkei stack up` — real Kafka and Apicurio Registry (downloaded once via Maven).
    2. `renkei schemas apply` — every topic and <topic>-value subject of schemas/avro/.
    3. `renkei worker all` — standardize, resident, region, evacuation and views stages.
    4. `renkei simulate` — a synthetic municipality on real postal data: a snapshot, then
       change events at --rate on all five department topics (moves, births, deaths,
       checkups, care certifications, disaster alerts, indicators).
    5. A live summary every few seconds: records and rates per stage, DLQ records, the largest
       regions of unified.region and the active evacuation-support lists.
    At the end (--duration or Ctrl-C) the demo stops what it started: the workers, and the
    stack unless it was already running or --keep-running is given.
    """
    settings = settings_of(ctx)
    stack_was_up = stack_status(settings).all_up
    _step("1/5 local stack")
    ctx.invoke(stack.get_command(ctx, "up"))  # type: ignore[arg-type]
    _step("2/5 topics and schemas")
    ctx.invoke(apply)
    _step("3/5 streaming stages (renkei worker all)")
    workers = _start_workers(settings)
    try:
        _step(f"4/5 simulator: {residents} residents, then {rate:g} events/s")
        _step("5/5 live summary (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            run(_live(settings, municipality, residents, rate, duration, seed, workers))
    finally:
        _stop_workers(workers)
        if not stack_was_up and not keep_running:
            stop_stack(settings)
            click.echo("stack stopped (it was started by this demo; --keep-running keeps it)")
    click.echo(f"logs: {settings.home / 'logs'} (worker-<stage>.log, demo-simulate.log)")


async def _live(
    settings: Settings,
    municipality: str,
    residents: int,
    rate: float,
    duration: float | None,
    seed: int,
    workers: subprocess.Popen[bytes],
) -> None:
    seconds = duration or 24 * 3600.0
    with (settings.home / "logs" / "demo-simulate.log").open("ab") as log:
        simulator = await asyncio.create_subprocess_exec(
            *_renkei(
                "simulate",
                "--municipality",
                municipality,
                "--residents",
                str(residents),
                "--seed",
                str(seed),
                "--rate",
                str(rate),
                "--duration",
                str(seconds),
            ),
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
        )
    monitor = Monitor(settings, catalogue_of(settings))
    await monitor.start()
    started = time.monotonic()
    before = Picture(started, {}, 0)
    try:
        while duration is None or time.monotonic() - started < duration:
            await asyncio.sleep(3)
            if workers.poll() is not None:
                raise click.ClickException("the stages stopped; see worker-<stage>.log")
            now = await monitor.picture()
            click.echo("\n".join(render(before, now, started)))
            before = now
    finally:
        await monitor.stop()
        if simulator.returncode is None:
            simulator.terminate()
            await simulator.wait()


def _start_workers(settings: Settings) -> subprocess.Popen[bytes]:
    log_dir = settings.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "demo-workers.log").open("ab") as log:  # the child keeps its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "renkei.cli.worker_cmd", "all", "--log-dir", str(log_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    click.echo(f"stages started (pid {process.pid}); logs in {log_dir}")
    return process


def _stop_workers(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
    click.echo("stages stopped")


def _renkei(*args: str) -> list[str]:
    """The command line running ``renkei ARGS`` with this interpreter."""
    return [sys.executable, "-c", "from renkei.cli import main; main()", *args]


def _step(title: str) -> None:
    click.secho(f"\n== {title}", fg="cyan", bold=True)
