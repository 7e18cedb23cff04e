"""``python -m staff_view``: follow unified.region and derived.evacuation-support, serve the page.

Logs carry counts only (no names, addresses or resident keys). Settings: the common
``RENKEI_*`` variables (Kafka, registry, catalogue, topic prefix) and ``RENKEI_STAFF_VIEW_*``
(bind, port, refresh, ...); ``--bind`` and ``--port`` override the latter.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import uuid
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from renkei.errors import RenkeiError
from renkei.schemas import load_catalogue
from renkei.settings import Settings, load_settings
from staff_view.follow import CatchUp, Source, follow
from staff_view.settings import StaffViewSettings
from staff_view.state import EVACUATION_TOPIC, REGION_TOPIC, ViewState
from staff_view.web import StaffView, build_app

log = logging.getLogger("staff_view")
SUMMARY_SECONDS = 60.0


async def _log_summary(view: StaffView) -> None:
    """Every minute: how much the view holds (counts only)."""
    while True:
        await asyncio.sleep(SUMMARY_SECONDS)
        totals = view.document()["totals"]
        log.info(
            "regions %d, active alerts %d, lists %d, listed persons %d, loaded %s",
            totals["regions"],
            totals["active_alerts"],
            totals["active_lists"],
            totals["listed_persons"],
            view.loaded(),
        )


async def run(settings: Settings, view_settings: StaffViewSettings) -> None:
    """Serve the page and follow both topics until cancelled.

    1. catalogue and an empty state; 2. the web server (fails fast if the port is taken);
    3. one subscriber per topic, each in a consumer group of its own for this start."""
    catalogue = load_catalogue(settings.schemas_dir)
    state = ViewState()
    sources = [
        Source(topic, CatchUp(view_settings.catchup_idle_seconds))
        for topic in (REGION_TOPIC, EVACUATION_TOPIC)
    ]
    view = StaffView(view_settings, state, sources)
    runner = web.AppRunner(build_app(view), access_log=None)
    await runner.setup()
    token = uuid.uuid4().hex[:12]
    tasks: list[asyncio.Task[Any]] = []
    try:
        await web.TCPSite(runner, view_settings.bind, view_settings.port).start()
        log.info("staff view at http://%s:%d/", view_settings.bind, view_settings.port)
        for source in sources:
            group = f"{settings.topic_prefix}{view_settings.group_prefix}-{token}-{source.topic}"
            tasks.append(asyncio.create_task(follow(settings, catalogue, source, state, group)))
        tasks.append(asyncio.create_task(_log_summary(view)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()


async def _until_signal(settings: Settings, view_settings: StaffViewSettings) -> None:
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await run(settings, view_settings)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m staff_view",
        description="職員向け画面: serve region figures (unified.region) and the active "
        "evacuation-support lists (derived.evacuation-support) as a read-only web page and "
        "JSON (/api/state). Settings: RENKEI_* and RENKEI_STAFF_VIEW_* variables "
        "(docs/staff-view.md).",
    )
    parser.add_argument("--bind", help="interface to listen on (RENKEI_STAFF_VIEW_BIND, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (RENKEI_STAFF_VIEW_PORT, 8090)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    overrides = {k: v for k, v in (("bind", args.bind), ("port", args.port)) if v is not None}
    try:
        view_settings = StaffViewSettings(**overrides)
        settings = load_settings()
        asyncio.run(_until_signal(settings, view_settings))
    except ValidationError as exc:
        print(f"staff_view: invalid setting: {exc}", file=sys.stderr)
        return 2
    except (RenkeiError, OSError) as exc:
        print(f"staff_view: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
