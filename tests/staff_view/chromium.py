"""Headless Chromium for the staff view tests: load a page, return the DOM after its scripts ran.

Debian's chromium (scripts/system-deps.sh installs it in CI). Locally a missing chromium skips
the test; under CI=true it fails. The flags keep chromium off the network except for the page
(this machine's network is closed: background services would hang or fail).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


def chromium() -> str:
    """Path of the chromium binary; fails under CI, skips locally, when there is none."""
    found = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if found is None:
        message = "chromium not installed (scripts/system-deps.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def dump_dom(url: str, profile: Path, budget_ms: int = 5000) -> str:
    """The serialized DOM of ``url`` after ``budget_ms`` of virtual time (scripts and fetches
    done)."""
    result = subprocess.run(
        [
            chromium(),
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout.decode("utf-8")


@dataclass
class Node:
    """An element of the dumped DOM: tag, attributes, children, text."""

    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def all(self, **attrs: str | None) -> list[Node]:
        """Descendants having every given attribute (``data_field`` = ``data-field``); a value
        of None only asks for the attribute's presence."""
        wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if all(
                    name in child.attrs and (value is None or child.attrs[name] == value)
                    for name, value in wanted.items()
                ):
                    found.append(child)
                found.extend(child.all(**attrs))
        return found

    def one(self, **attrs: str | None) -> Node:
        found = self.all(**attrs)
        assert len(found) == 1, f"{len(found)} elements with {attrs}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
