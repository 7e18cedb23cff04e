"""The resident stage (住民の連携): std registry events, checkups and care certifications →
``unified.resident`` (redacted) and ``internal.resident.facts`` (unredacted, platform internal).

The wiring only: state and steps are in ``flow.py``, ``state.py``, ``household.py``,
``profile.py`` and ``redelivery.py``; an agent loops, calls a handler, sends
(``renkei.runtime.builder``).
"""

from __future__ import annotations

import logging
from typing import Any, Unpack

import orjson

from renkei.contracts.stages import stage_spec
from renkei.runtime.app import StageApp
from renkei.runtime.builder import StageBuilder, StageOptions, contract, internal
from renkei.runtime.records import Output, SourceRecord
from renkei.settings import Settings
from renkei.stages.resident import flow as resident_flow
from renkei.stages.resident import redelivery
from renkei.stages.resident.dwelling import NAMED_SCOPE
from renkei.stages.resident.reference_codes import ReferenceCodes
from renkei.stages.resident.reorganisation import CodesInForce, PartitionScans, rekey_trigger

STAGE = "resident"
REKEY_KEY = b"reorganisation"
log = logging.getLogger(__name__)


def build_resident(settings: Settings, **options: Unpack[StageOptions]) -> StageApp:
    """The resident worker's App (group ``renkei-resident``, web port 6067 by default).

    Phases:
    1. registry: the three std resident-keyed topics in (6 partitions, co-partitioned: the
       standardize stage keys them by resident_key with the default partitioner), the two
       outputs (``renkei.contracts.stages``);
    2. tables: ``residents`` (ResidentState per resident_key), ``households`` (members per
       household key) — both 6 partitions;
    3. internal topics: ``renkei-resident-household-members`` (key household) and
       ``renkei-resident-household-views`` (key resident_key): the household loop of
       ``household.py``; ``renkei-resident-reorganisations``: one message per partition when
       the municipal changes in effect change;
    4. handlers: std inputs and views → resident table → outputs + membership messages;
       membership → household table → views; a reorganisations message → every resident of
       its partition re-keyed to today's region code (``reorganisation.py``);
    5. reference data: the ``ref.*`` topics read and followed in the background
       (``reference_codes.py``), which announces the re-key scans.
    """
    from renkei.schemas.catalogue import load_catalogue
    from renkei.serde.registry import RegistryClient

    stage = StageBuilder.create(
        settings,
        stage_spec(STAGE),
        **options,
    )
    residents = stage.table("residents")
    households = stage.table("households")
    members = stage.internal_topic("household-members")
    views = stage.internal_topic("household-views")
    reorganisations = stage.internal_topic("reorganisations")
    reorganisations_topic = stage.names.topic(reorganisations)
    partitions = stage.spec.internal_topics["reorganisations"]

    async def announce(message: dict[str, Any]) -> None:
        """The message to every partition; returns once the broker has them all."""
        value = orjson.dumps(message)
        pending = [
            await stage.app.producer.send(reorganisations_topic, REKEY_KEY, value, p, None, None)
            for p in range(partitions)
        ]
        for delivery in pending:
            await delivery

    registry = stage.registry or RegistryClient(stage.settings.schema_registry_url)
    reference = ReferenceCodes(
        stage.settings, load_catalogue(stage.settings.schemas_dir), registry, announce
    )

    def sent(result: resident_flow.StepResult, next_topic: str) -> list[Output]:
        out = [contract(t, str(d["resident_key"]), d) for t, d in result.outputs]
        return out + [
            # a naming by a protected applicant goes to the named resident (dwelling.py)
            internal(views if m.get("scope") == NAMED_SCOPE else next_topic, k, m)
            for k, m in result.messages
        ]

    def resident_step(
        record: SourceRecord, key: str, trigger: dict[str, Any], handle: Any
    ) -> list[Output]:
        """``handle(store)`` on the residents table; outputs re-sent on a redelivery whose
        state change was persisted without them (redelivery.py)."""
        result = redelivery.applied(
            residents,
            key,
            [record.topic, record.partition, record.offset],
            handle,
            lambda stored: redelivery.replay_resident(stored, trigger),
        )
        return sent(result, members)

    def on_registry(record: SourceRecord, event: Any) -> list[Output]:
        trigger = resident_flow.trigger_of(event, event_type=str(event["event_type"]))
        return resident_step(
            record,
            str(event["resident_key"]),
            trigger,
            lambda store: resident_flow.handle_registry_event(store, event),
        )

    def on_checkup(record: SourceRecord, event: Any) -> list[Output]:
        return resident_step(
            record,
            str(event["resident_key"]),
            resident_flow.trigger_of(event),
            lambda store: resident_flow.handle_checkup(store, event),
        )

    def on_care(record: SourceRecord, event: Any) -> list[Output]:
        return resident_step(
            record,
            str(event["resident_key"]),
            resident_flow.trigger_of(event),
            lambda store: resident_flow.handle_care_certification(store, event),
        )

    def on_membership(record: SourceRecord, message: Any) -> list[Output]:
        result = redelivery.applied(
            households,
            str(message["household_key"]),
            [record.topic, record.partition, record.offset],
            lambda store: resident_flow.handle_membership(store, message),
            lambda stored: redelivery.replay_household(stored, dict(message["trigger"])),
        )
        return sent(result, views)

    def on_view(record: SourceRecord, view: Any) -> list[Output]:
        resident_key = (record.key or b"").decode("utf-8")
        return resident_step(
            record,
            resident_key,
            dict(view["trigger"]),
            lambda store: resident_flow.handle_household_view(store, resident_key, view),
        )

    scans = PartitionScans()

    def on_reorganisation(record: SourceRecord, message: Any) -> list[Output]:
        """The next chunk of the residents of the message's partition re-keyed to today's
        region code; a continuation message while the partition has more."""
        codes = reference.codes()
        if codes is None:  # a worker that has no release yet: its own check announces later
            log.warning("re-key of partition %d skipped: no reference release", record.partition)
            return []
        recorded_at = str(message["sent_at"])
        chunk, following, total = scans.next_chunk(
            record.partition,
            f"{message['changes']}/{recorded_at}",
            message.get("after"),
            lambda: residents.local_keys(record.partition),  # type: ignore[attr-defined]
        )
        outputs: list[Output] = []
        rekeyed = 0
        for key in chunk:
            sent_before = len(outputs)
            outputs += resident_step(
                record,
                key,
                _replay_trigger(key, codes, recorded_at),
                lambda store, key=key: resident_flow.handle_reorganisation(
                    store, key, codes, recorded_at
                ),
            )
            rekeyed += len(outputs) > sent_before
        if following is not None and chunk:
            outputs.append(internal(reorganisations, following, {**message, "after": chunk[-1]}))
        log.info(
            "re-keyed %d residents of partition %d (%d of %d scanned%s; release %s, changes in "
            "effect on %s)",
            rekeyed,
            record.partition,
            len(chunk),
            total,
            ", more follow" if following is not None else "",
            codes.release,
            codes.today,
        )
        return outputs

    # the live inputs; their bulk twins (<topic>.bulk) share the handlers (runtime/builder.py)
    std_registry, std_checkups, std_care = stage.spec.inputs[:3]
    stage.on(std_registry, on_registry)
    stage.on(std_checkups, on_checkup)
    stage.on(std_care, on_care)
    stage.on(members, on_membership)
    stage.on(views, on_view)
    stage.on(reorganisations, on_reorganisation)
    app = stage.build()

    async def follow_reference() -> None:
        reference.start()

    app.task(follow_reference)  # a faust task starts once the App (and its producer) runs

    app.shutdown_hooks.insert(0, reference.stop)
    app.reference = reference  # type: ignore[attr-defined]  # tests reach it
    return app


def _replay_trigger(key: str, codes: CodesInForce, recorded_at: str) -> dict[str, Any]:
    """The envelope of a re-key's outputs sent again on a redelivered message."""
    return rekey_trigger(key, "", codes, recorded_at)
