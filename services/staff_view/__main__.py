"""``python -m staff_view``: follow the purpose views of the staff view's agreement
(``view.<purpose>.region``, ``view.<purpose>.evacuation-support``), serve the page.

Logs carry counts only (no names, addresses or resident keys). Settings: the common
``RENKEI_*`` variables (Kafka, registry, catalogue, topic prefix) and ``RENKEI_STAFF_VIEW_*``
(bind, port, refresh, ...); ``--bind`` and ``--port`` override the latter.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from renkei.audit import AuditLog
from renkei.errors import RenkeiError
from renkei.identity import IdentityProvider, IdentitySettings, staff_login
from renkei.identity.web import until_signal
from renkei.schemas import load_catalogue
from renkei.settings import Settings, load_settings
from staff_view.follow import CatchUp, Source, follow
from staff_view.served import ServedWindow, audit_served
from staff_view.settings import StaffViewSettings
from staff_view.sources import ViewSources, group_id, load_view_sources
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


async def _audit_windows(window: ServedWindow, audit: AuditLog, actor: str, seconds: float) -> None:
    """Every ``seconds``: a ``view.served`` record for the window, if it served any list."""
    while True:
        await asyncio.sleep(seconds)
        await audit_served(window, audit, actor)


def _served_window(sources: ViewSources) -> ServedWindow:
    agreement = sources.agreement
    return ServedWindow(agreement.id, str(agreement.purpose), sources.view_topics)


def choose_login(
    settings: Settings, view_settings: StaffViewSettings, *, secure: bool, open_access: bool
) -> IdentityProvider:
    """The staff login (``renkei.identity.staff_login``): the users file of
    RENKEI_STAFF_VIEW_USERS_FILE or RENKEI_STAFF_USERS_FILE; refused without one when Kafka is
    SASL_SSL or with --secure; open access only in development or with --open-access."""
    return staff_login(
        "staff view",
        f"http://{view_settings.bind}:{view_settings.port}/",
        IdentitySettings(),
        secure=secure or settings.kafka_security_protocol == "SASL_SSL",
        users_file=view_settings.users_file,
        open_access=open_access,
    )


async def run(
    settings: Settings, view_settings: StaffViewSettings, login: IdentityProvider | None = None
) -> None:
    """Serve the page and follow both views until cancelled.

    1. the agreement's views, a catalogue that knows them, and an empty state; 2. the web
    server (fails fast if the port is taken); 3. one subscriber per view, each in a consumer
    group of its own for this start, under the agreement's consumer group; 4. a ``view.served``
    audit record per window, and one for the last window at stop."""
    found = load_view_sources(
        load_catalogue(settings.schemas_dir), settings.agreements_dir, view_settings.agreement
    )
    state = ViewState()
    sources = [
        Source(found.views[topic], topic, CatchUp(view_settings.catchup_idle_seconds))
        for topic in (REGION_TOPIC, EVACUATION_TOPIC)
    ]
    window = _served_window(found)
    view = StaffView(view_settings, state, sources, served=window)
    audit = AuditLog.open(settings, produce=view_settings.audit_produce)
    if login is None:
        login = choose_login(settings, view_settings, secure=False, open_access=False)
    runner = web.AppRunner(build_app(view, login), access_log=None)
    await runner.setup()
    token = uuid.uuid4().hex[:12]
    actor = f"app:staff_view ({found.agreement.principal})"
    tasks: list[asyncio.Task[Any]] = []
    try:
        await web.TCPSite(runner, view_settings.bind, view_settings.port).start()
        log.info(
            "staff view at http://%s:%d/ (agreement %s, views %s)",
            view_settings.bind,
            view_settings.port,
            found.agreement.id,
            ", ".join(found.view_topics),
        )
        for source in sources:
            group = group_id(settings.topic_prefix, found.agreement, token, source.topic)
            tasks.append(
                asyncio.create_task(follow(settings, found.catalogue, source, state, group))
            )
        tasks.append(asyncio.create_task(_log_summary(view)))
        tasks.append(
            asyncio.create_task(
                _audit_windows(window, audit, actor, view_settings.audit_window_seconds)
            )
        )
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        await audit_served(window, audit, actor)
        await audit.aclose()


async def _until_signal(
    settings: Settings, view_settings: StaffViewSettings, login: IdentityProvider
) -> None:
    await until_signal(run(settings, view_settings, login))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m staff_view",
        description="職員向け画面: serve region figures and the active evacuation-support lists "
        "as a read-only web page and JSON (/api/state), read from the purpose views "
        "view.<purpose>.region and view.<purpose>.evacuation-support of the consumer agreement "
        "RENKEI_STAFF_VIEW_AGREEMENT (default staff-view; the views come from `renkei worker "
        "views`). Each window that served lists writes a view.served audit record. Settings: "
        "RENKEI_* and RENKEI_STAFF_VIEW_* variables (docs/staff-view.md).",
    )
    parser.add_argument("--bind", help="interface to listen on (RENKEI_STAFF_VIEW_BIND, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port (RENKEI_STAFF_VIEW_PORT, 8090)")
    parser.add_argument(
        "--secure",
        action="store_true",
        help="refuse to start without a staff users file (RENKEI_STAFF_USERS_FILE or "
        "RENKEI_STAFF_VIEW_USERS_FILE); implied when RENKEI_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
    )
    parser.add_argument(
        "--open-access",
        action="store_true",
        help="DEVELOPMENT ONLY: serve the lists without any login, even in a secure "
        "deployment (a warning banner is logged at every start)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    overrides = {k: v for k, v in (("bind", args.bind), ("port", args.port)) if v is not None}
    try:
        view_settings = StaffViewSettings(**overrides)
        settings = load_settings()
        login = choose_login(
            settings, view_settings, secure=args.secure, open_access=args.open_access
        )
        asyncio.run(_until_signal(settings, view_settings, login))
    except ValidationError as exc:
        print(f"staff_view: invalid setting: {exc}", file=sys.stderr)
        return 2
    except (RenkeiError, OSError) as exc:
        print(f"staff_view: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
