"""Which RENKEI_* environment variables are real settings, and what they parse to."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic_settings import BaseSettings

from renkei.settings import Settings

SETTINGS_CLASSES = {
    # prefix → "module:class"; the longest matching prefix decides
    "RENKEI_STAFF_VIEW_": "staff_view.settings:StaffViewSettings",
    "RENKEI_STAFF_": "renkei.identity.providers:IdentitySettings",
    "RENKEI_CATALOGUE_": "renkei.data_catalogue.settings:CatalogueSettings",
    "RENKEI_": "renkei.settings:Settings",
}


def settings_class(variable: str) -> type[BaseSettings]:
    """The settings class that reads ``variable`` (by its prefix)."""
    for prefix in sorted(SETTINGS_CLASSES, key=len, reverse=True):
        if variable.startswith(prefix):
            module, _, name = SETTINGS_CLASSES[prefix].partition(":")
            cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
            return cls
    raise KeyError(variable)


def field_of(variable: str) -> str | None:
    """The settings field ``variable`` sets, or None when no settings class reads it."""
    cls = settings_class(variable)
    prefix = str(cls.model_config.get("env_prefix", ""))
    name = variable[len(prefix) :].lower()
    return name if name in cls.model_fields else None


def parse(environment: dict[str, Any]) -> dict[type[BaseSettings], BaseSettings]:
    """Each settings class built from ``environment`` alone (values validated by pydantic)."""
    built: dict[type[BaseSettings], BaseSettings] = {}
    classes = {settings_class(k) for k in environment if k.startswith("RENKEI_")}
    for cls in classes | {Settings}:
        prefix = str(cls.model_config.get("env_prefix", ""))
        values = {
            k[len(prefix) :].lower(): str(v)
            for k, v in environment.items()
            if k.startswith(prefix) and settings_class(k) is cls
        }
        built[cls] = cls.model_validate(values)
    return built
