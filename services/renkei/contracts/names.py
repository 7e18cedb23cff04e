"""Contract topic names → Kafka names, registry subjects, DLQ topics and consumer groups."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Kafka names of contract topics, subjects, DLQs and consumer groups.

    The prefix is empty in production (names are the contract, ARCHITECTURE.md); tests set one
    so each run has its own topics, subjects and group.
    """

    prefix: str = ""

    def topic(self, contract_topic: str) -> str:
        return f"{self.prefix}{contract_topic}"

    def subject(self, contract_topic: str) -> str:
        """Registry subject under TopicNameStrategy."""
        return f"{self.prefix}{contract_topic}-value"

    def dlq(self, contract_topic: str) -> str:
        """``dlq.<source topic>``."""
        return f"{self.prefix}dlq.{contract_topic}"

    def group(self, stage: str) -> str:
        """Consumer group (and faust app id) of a stage: ``renkei-<stage>``."""
        return f"{self.prefix}renkei-{stage}"
