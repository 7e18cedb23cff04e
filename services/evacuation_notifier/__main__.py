"""``python -m evacuation_notifier``: follow its purpose view of the evacuation-support lists,
log changes, serve lists.

The app reads ``view.evacuation-support.evacuation-support`` (its data-sharing agreement
``deploy/agreements/evacuation-notifier.yaml``; built by ``renkei worker views``): only the
agreed fields, resident keys pseudonymized, protected addresses withheld. Logs carry counts
only (no names or addresses); the HTTP endpoint serves the lists to the staff and support
organisations this service is authorized for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging

from aiohttp import web

from evacuation_notifier.board import Board
from renkei.contracts.views import load_view_plans, view_catalogue
from renkei.schemas import load_catalogue
from renkei.schemas.jsonform import to_json
from renkei.settings import load_settings
from renkei.subscribe import Subscriber

TOPIC = "view.evacuation-support.evacuation-support"
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


async def serve(board: Board, port: int) -> web.AppRunner:
    async def lists(_request: web.Request) -> web.Response:
        body = json.dumps(board.summary(), ensure_ascii=False)
        return web.Response(text=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/lists", lists)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    log.info("serving the current lists at http://127.0.0.1:%d/lists", port)
    return runner


async def main_async(group: str, port: int) -> None:
    board = Board()
    runner = await serve(board, port)
    try:
        await follow(board, group)
    finally:
        await runner.cleanup()


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
