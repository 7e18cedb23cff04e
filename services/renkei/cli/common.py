"""Small helpers shared by the CLI verbs."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from renkei.schemas.catalogue import Catalogue, load_catalogue
from renkei.settings import Settings, load_settings

T = TypeVar("T")


def settings_of(ctx: click.Context) -> Settings:
    """The settings the main group loaded (or fresh ones when a verb runs alone in tests)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else load_settings()


def catalogue_of(settings: Settings) -> Catalogue:
    return load_catalogue(settings.schemas_dir)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
