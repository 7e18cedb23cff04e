"""Stage builders for the live corrections test: the region stage with k = 1, so that the
per-day figures of a handful of test residents are visible (suppression is tested elsewhere)."""

from __future__ import annotations

from typing import Any

from renkei.runtime.app import StageApp
from renkei.settings import Settings
from renkei.stages.region.stage import build_region


def build_region_k1(settings: Settings, **options: Any) -> StageApp:
    return build_region(settings, k_threshold=1, **options)
