"""``renkei worker STAGE|all``: run streaming stages (faust workers)."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import click

from renkei.cli.common import settings_of
from renkei.contracts.names import TopicNames
from renkei.contracts.stages import STAGES, default_web_port
from renkei.errors import ConfigurationError
from renkei.runtime.worker import LOG_LEVELS, load_builder, run_worker
from renkei.settings import Settings

STOP_TIMEOUT = 80.0
"""Seconds `all` waits for its stages after SIGTERM; a stage exits by itself after 70 s
(runtime.app.STOP_GRACE) when faust hangs in stop. A killed stage stays a member of its group
until the session times out (60 s), and delays the next start by as much."""


def _stage_names() -> str:
    names = list(STAGES)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def _default_ports() -> str:
    base = Settings.model_fields["worker_web_port_base"].default
    return ", ".join(f"{name} {base + spec.web_port_offset}" for name, spec in STAGES.items())


WORKER_HELP = f"""Run a streaming stage until Ctrl-C or SIGTERM.

    STAGE is {_stage_names()} (each its own faust App and consumer group
    renkei-<stage>; the stage registry, docs/design/layout.md), or module:function of a stage
    builder (tests, plugins). A single stage runs in this process and logs to stderr (or
    --log-file).

    `all` starts every stage of the stage registry, each in its own subprocess, and writes
    each one's output to <log-dir>/worker-<stage>.log. Ctrl-C or SIGTERM stops them all
    (committing what was processed); if one stage exits, the others are stopped too.

    Topics must exist first (`renkei schemas apply`); a stage creates its outputs and its
    dlq.<topic> topics itself. Exit code 0 after a clean stop, 1 when a stage failed (for
    example the DLQ breaker tripped).
    """


@click.command(help=WORKER_HELP)
@click.argument("stage", metavar="STAGE|all")
@click.option(
    "--web-port",
    type=int,
    help=f"Web server port of a single stage (default: {_default_ports()}; base from "
    "RENKEI_WORKER_WEB_PORT_BASE).",
)
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS),
    default="info",
    show_default=True,
    help="Level of Renkei's logs; faust, mode and aiokafka log at warning unless debug.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Single stage: append logs to this file instead of stderr.",
)
@click.option(
    "--stop-timeout",
    type=float,
    default=STOP_TIMEOUT,
    show_default=True,
    help="With all: seconds to wait for the stages to stop before killing them "
    "(a second Ctrl-C kills at once).",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With all: folder of the per-stage logs (default: <RENKEI_HOME>/logs).",
)
@click.pass_context
def worker(
    ctx: click.Context,
    stage: str,
    web_port: int | None,
    log_level: str,
    log_file: Path | None,
    log_dir: Path | None,
    stop_timeout: float,
) -> None:
    """``renkei worker STAGE|all`` (help text: :data:`WORKER_HELP`)."""
    settings = settings_of(ctx)
    if stage == "all":
        if web_port is not None or log_file is not None:
            raise click.UsageError("--web-port and --log-file apply to a single stage, not all")
        sys.exit(run_all(settings, log_level, log_dir or settings.home / "logs", stop_timeout))
    try:
        builder = load_builder(stage)
    except ConfigurationError as exc:
        raise click.BadParameter(str(exc), param_hint="STAGE") from exc
    kwargs = {} if web_port is None else {"web_port": web_port}
    app = builder(settings, **kwargs)
    where = str(log_file) if log_file else "stderr"
    click.echo(
        f"renkei worker {stage}: group {app.conf.id}, "
        f"web http://{settings.worker_web_bind}:{app.conf.web_port}/, logs -> {where}",
        err=True,
    )
    run_worker(app, log_level=log_level, log_file=log_file)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the parent dies (Linux), so no stage outlives `all`."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_all(
    settings: Settings, log_level: str, log_dir: Path, stop_timeout: float = STOP_TIMEOUT
) -> int:
    """Start every stage as a subprocess; stop them all on a signal or a failure."""
    names = list(STAGES)
    log_dir.mkdir(parents=True, exist_ok=True)
    children: dict[str, tuple[subprocess.Popen[bytes], Path, IO[bytes]]] = {}
    # Both handlers explicitly: a shell that starts `all` in the background ignores SIGINT
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for name in names:
            log_path = log_dir / f"worker-{name}.log"
            log = log_path.open("ab")
            command = [
                sys.executable,
                "-m",
                "renkei.cli.worker_cmd",
                name,
                "--log-level",
                log_level,
            ]
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the parent, which stops children in order
                preexec_fn=_die_with_parent,
            )
            children[name] = (process, log_path, log)
            group = TopicNames(settings.topic_prefix).group(name)
            web = f"http://{settings.worker_web_bind}:{default_web_port(settings, name)}/"
            click.echo(f"{name:<12} pid {process.pid:<7} group {group}  web {web}  log {log_path}")
        click.echo("running; Ctrl-C or SIGTERM stops every stage")
        while True:
            for name, (process, log_path, _) in children.items():
                if process.poll() is not None:
                    click.secho(
                        f"{name} exited with code {process.returncode}; see {log_path}",
                        fg="red",
                        err=True,
                    )
                    return 1
            time.sleep(0.5)
    except (KeyboardInterrupt, _Stop):
        click.echo("stopping every stage... (Ctrl-C again to kill them)", err=True)
    finally:
        try:
            code = max(code, _stop_all(children, stop_timeout))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return code


def _stop_all(
    children: dict[str, tuple[subprocess.Popen[bytes], Path, IO[bytes]]], timeout: float
) -> int:
    """SIGTERM every running child, wait, SIGKILL stragglers (at once on a second signal);
    1 if any did not stop cleanly."""
    for process, _, _ in children.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    code = 0
    hurry = False
    for name, (process, log_path, log) in children.items():
        while process.poll() is None and not hurry and time.monotonic() < deadline:
            try:
                process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
            except (KeyboardInterrupt, _Stop):
                hurry = True
        if process.poll() is None:
            why = "second signal" if hurry else f"not stopped after {timeout:g}s"
            click.secho(
                f"{name}: {why}: killed (its consumer group waits for the session timeout "
                "before the next start can take its partitions)",
                fg="red",
                err=True,
            )
            process.kill()
            process.wait()
        if process.returncode not in (0, -signal.SIGTERM):
            code = 1
        click.echo(f"{name} stopped (exit {process.returncode}); log {log_path}", err=True)
        log.close()
    return code


def _main() -> None:
    """``python -m renkei.cli.worker_cmd ...`` = ``renkei worker ...`` (used by `all`)."""
    from renkei.cli import cli, main

    if "worker" not in cli.commands:
        cli.add_command(worker)
    sys.argv[1:1] = ["worker"]
    main()


if __name__ == "__main__":
    _main()
