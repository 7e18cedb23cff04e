"""Run one stage App in this process with faust's Worker (signals, exit codes) and our logging."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import faust

from renkei.contracts.stages import STAGES
from renkei.errors import ConfigurationError
from renkei.runtime.app import StageApp, quiet_library_logs

LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"


def load_builder(target: str) -> Callable[..., Any]:
    """The builder function of a stage name (the stage registry's ``builder``) or of
    ``module:function`` (tests, plugins)."""
    path = STAGES[target].builder if target in STAGES else target
    module_name, _, function = path.partition(":")
    if not function:
        raise ConfigurationError(
            f"unknown stage {target!r}; choose one of {', '.join(STAGES)}, all, "
            "or give module:function"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigurationError(f"stage builder module {module_name!r} not found: {exc}") from exc
    try:
        builder: Callable[..., Any] = getattr(module, function)
    except AttributeError:
        raise ConfigurationError(f"{module_name} has no stage builder {function!r}") from None
    return builder


def configure_logging(log_level: str, log_file: Path | None) -> None:
    """One handler on the root logger (stderr, or ``log_file``) at ``log_level``.

    faust's Worker is told not to touch logging: its own setup puts the root logger at DEBUG
    for a progress spinner, which makes every library ``log.debug`` build a record.
    """
    level = logging.getLevelName(log_level.upper())
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_library_logs(logging.DEBUG if level == logging.DEBUG else logging.WARNING)


class StageWorker(faust.Worker):
    """faust's Worker, made sure to end: the first SIGINT/SIGTERM stops cleanly with a
    watchdog armed (StageApp.arm_stop_watchdog); a second one exits at once."""

    def _schedule_shutdown(self, signum: signal.Signals) -> None:
        if self._signal_stop_time:
            logging.getLogger(__name__).error("second %s: exiting now", signum.name)
            logging.shutdown()
            os._exit(1)
        if isinstance(self.app, StageApp):
            self.app.arm_stop_watchdog()
        super()._schedule_shutdown(signum)


def run_worker(
    app: faust.App, *, log_level: str = "info", log_file: Path | None = None
) -> NoReturn:
    """Run ``app`` until SIGINT/SIGTERM (exit 0 after a clean stop) or a crash (exit 1).

    A StageApp's startup (topics, schema ids) runs first, on the loop the worker will use: its
    errors propagate as Renkei errors before faust starts. Logs go to ``log_file`` when given,
    else to stderr; ``log_level`` applies to Renkei's loggers, while faust, mode, aiokafka and
    httpx log at WARNING unless it is ``debug``.
    """
    configure_logging(log_level, log_file)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if isinstance(app, StageApp):
        loop.run_until_complete(app.prepare())
    worker = StageWorker(
        app,
        loop=loop,
        loglevel=log_level,
        override_logging=False,
        redirect_stdouts=False,
        quiet=True,
    )
    worker.spinner = None  # a terminal spinner does not belong in logs (and writes escapes)
    worker.execute_from_commandline()
