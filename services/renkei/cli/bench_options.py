"""Options every `renkei bench` command takes the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def web_port_base(workers: str) -> Callable[[F], F]:
    """``--web-port-base``: the first of ``workers`` consecutive web ports of the bench's
    workers (``workers`` in words, e.g. "four")."""
    return click.option(
        "--web-port-base",
        type=int,
        default=7066,
        show_default=True,
        help=f"First web port of the bench's workers ({workers} consecutive ports).",
    )


def output_options(command: F) -> F:
    """``--keep-topics`` and ``--json``."""
    command = click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON object (for scripts)."
    )(command)
    return click.option(
        "--keep-topics", is_flag=True, help="Leave the bench-* topics for inspection."
    )(command)
