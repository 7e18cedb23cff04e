"""``python -m evacuation_notifier``: follow its purpose view of the evacuation-support lists,
log changes, serve lists.

The app reads ``view.evacuation-support.evacuation-support`` (its data-sharing agreement
``deploy/agreements/evacuation-notifier.yaml``; built by ``renkei worker views``): only the
agreed fields, resident keys pseudonymized, protected addresses withheld. Logs carry counts
only (no names or addresses); the HTTP endpoint serves the lists to the staff and support
organisations this service is authorized for, and each answer that lists anyone is audited
(``view.served``, naming the client).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
from typing import Any

from aiohttp import web

from evacuation_notifier.board import Board
from renkei.audit import AuditLog
from renkei.contracts.views import load_view_plans, view_catalogue
from renkei.errors import AuditError
from renkei.schemas import load_catalogue
from renkei.schemas.jsonform import to_json
from renkei.settings import Settings, load_settings
from renkei.subscribe import Subscriber

TOPIC = "view.evacuation-support.evacuation-support"
AGREEMENT = "evacuation-notifier"
SERVED = "view.served"
log = logging.getLogger("evacuation_notifier")


async def follow(board: Board, group: str) -> None:
    settings = load_settings()
    catalogue = load_catalogue(settings.schemas_dir)
    views = view_catalogue(catalogue, load_view_plans(settings.agreements_dir, catalogue))
    async with Subscriber(settings, views, TOPIC, group_id=group) as subscriber:
        async for record in subscriber:
            if record.value is None:
                continue
            change = board.apply(to_json(record.value.model_dump()))
            log.info(change.describe())


def served_details(summary: dict[str, Any], client: str) -> dict[str, Any] | None:
    """The ``view.served`` details of one ``/lists`` answer (None when it listed nobody):
    who received it, which alerts and how many lists and persons — never who they are."""
    persons = [len(item.get("persons") or []) for item in summary["lists"]]
    if not sum(persons):
        return None
    return {
        "agreement": AGREEMENT,
        "purpose": "evacuation-support",
        "views": [TOPIC],
        "responses": 1,
        "users": [client],
        "persons_total": sum(persons),
        "persons_max": max(persons),
        "alerts": sorted({str(item.get("alert_id")) for item in summary["lists"]}),
        "lists": len(summary["lists"]),
    }


def build_app(board: Board, audit: AuditLog, actor: str) -> web.Application:
    """``/lists``: the current lists; every answer that lists anyone is audited first
    (``view.served``). An audit failure is logged, never raised: in a disaster the lists go
    out even when the audit log is unavailable."""

    async def lists(request: web.Request) -> web.Response:
        summary = board.summary()
        details = served_details(summary, request.remote or "unknown")
        if details is not None:
            try:
                await audit.record(SERVED, actor=actor, details=details)
            except (AuditError, OSError) as exc:
                log.error("view.served audit record not fully written: %s", exc)
        body = json.dumps(summary, ensure_ascii=False)
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/lists", lists)
    return app


async def serve(board: Board, port: int, audit: AuditLog) -> web.AppRunner:
    runner = web.AppRunner(build_app(board, audit, f"app:evacuation_notifier ({AGREEMENT})"))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    log.info("serving the current lists at http://127.0.0.1:%d/lists", port)
    return runner


async def main_async(group: str, port: int, settings: Settings | None = None) -> None:
    board = Board()
    # The local hash-chained file only: the app's principal may not write audit.access, and a
    # /lists answer must not wait for a broker round trip.
    audit = AuditLog.open(settings or load_settings(), produce=False)
    runner = await serve(board, port, audit)
    try:
        await follow(board, group)
    finally:
        await runner.cleanup()
        await audit.aclose()


DEFAULT_PORT = 8092  # the staff view (python -m staff_view) has 8090


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m evacuation_notifier",
        description="Keep the current 避難行動要支援者 lists per alert and region "
        f"(from its purpose view {TOPIC}); log each change; serve them as JSON.",
    )
    parser.add_argument(
        "--group",
        default="app-evacuation-notifier",
        help="consumer group id (the agreement's consumer_group; the ACL allows only it)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"HTTP port on 127.0.0.1 ({DEFAULT_PORT})"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args.group, args.port))


if __name__ == "__main__":
    main()
