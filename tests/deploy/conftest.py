"""Shared paths and tool lookup for the deployment-file tests."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def require_tool(name: str, fallback: str | None = None) -> str:
    """Path of a command-line tool; skipped locally when missing, a failure under CI=true
    (CI installs it through scripts/system-deps.sh)."""
    path = shutil.which(name) or (fallback if fallback and Path(fallback).exists() else None)
    if path:
        return path
    message = f"{name} is not installed (Debian package providing it: see scripts/system-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
