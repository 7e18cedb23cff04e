"""Subscriber SDK for downstream services: typed records from unified.* and derived.* topics."""

from renkei.subscribe.subscriber import Record, Subscriber

__all__ = ["Record", "Subscriber"]
