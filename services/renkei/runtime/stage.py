"""A stage: input topic(s) → step(record, value) → output records.

:class:`Stage` is what a stage module declares (name, catalogue specs of its inputs and outputs,
a pure step). :class:`StageProcessor` runs one consumed record through decode → step → encode →
send, and hands every failure that is the record's fault to the :class:`DeadLetterRouter`.
It knows nothing of faust: the agent around it (runtime/app.py) only loops and acks.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from renkei.contracts.dlq import DlqReason
from renkei.contracts.names import TopicNames
from renkei.errors import InvalidRecord
from renkei.ops.metrics import StageMetrics
from renkei.runtime.codec import OutputEncoders, SourceDecoder, UndecodableRecord
from renkei.runtime.dlq import DeadLetterRouter, Rejection, Send
from renkei.runtime.dlq_mask import masked_refused, masked_undecodable
from renkei.runtime.records import Output, SourceRecord
from renkei.schemas.catalogue import TopicSpec

Step = Callable[[SourceRecord, Any], Iterable[Output] | Awaitable[Iterable[Output]]]
"""``step(record, value)``: the decoded ``value`` of ``record`` → the records to produce.
Raises InvalidRecord (or a subclass) for a bad record: the error carries its DLQ reason class
(``dlq_reason``) and whether the record holds a 個人番号 (``carries_my_number``)."""


@dataclass(frozen=True)
class Stage:
    """What a stage consumes, produces and does per record."""

    name: str
    inputs: tuple[TopicSpec, ...]
    outputs: tuple[TopicSpec, ...]
    step: Step

    def __post_init__(self) -> None:
        if not self.inputs:
            raise ValueError(f"stage {self.name!r} has no input topics")


DATASCHEMA_HEADER = "ce_dataschema"

Encoded = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]
"""An encoded output: (Kafka topic, key, value, headers); value None is a tombstone."""


class StageProcessor:
    """Processes one record at a time; returns the delivery futures of what it sent."""

    def __init__(
        self,
        stage: Stage,
        *,
        decoders: Mapping[str, SourceDecoder],
        encoders: OutputEncoders,
        names: TopicNames,
        send: Send,
        router: DeadLetterRouter,
        registry_url: str,
        metrics: StageMetrics | None = None,
    ):
        self.stage = stage
        self.metrics = metrics or StageMetrics(stage.name)
        self._decoders = decoders
        self._encoders = encoders
        self._names = names
        self._send = send
        self._router = router
        self._registry_url = registry_url.rstrip("/")
        self._unsent: dict[int, Output] = {}
        """Outputs of the open batches by ``id`` of their encoded record, until delivered."""
        self._dataschema: dict[str, bytes] = {}

    def on_prepared(self) -> None:
        """Call once the encoders know their schema ids (startup)."""
        ids = {spec.topic: self._encoders.schema_id(spec.topic) for spec in self.stage.outputs}
        self._dataschema = {
            topic: f"{self._registry_url}/schemas/ids/{schema_id}".encode()
            for topic, schema_id in ids.items()
        }

    async def process(self, record: SourceRecord) -> list[Any]:
        """Decode, step, encode and send ``record``'s outputs, or route it to the DLQ.

        Raises only what is not the record's fault (registry down, DLQ breaker tripped, producer
        errors): the worker must stop then, without acknowledging the record.
        """
        self.metrics.record_in(record.contract_topic)
        try:
            encoded = await self._transform(record)
        except _Rejected as rejected:
            rejection = rejected.rejection
            kept = rejected.kept or record
        else:
            return await self._send_all(encoded)
        return [await self._router.route(kept, rejection)]

    async def process_deferred(self, record: SourceRecord) -> tuple[list[Encoded], list[Any]]:
        """Decode, step and encode ``record``; (outputs to send, DLQ delivery futures).

        The commit-interval loop (runtime/batch.py) sends the outputs itself, after the
        batch; a record routed to the DLQ is sent at once. Raises as :meth:`process` does."""
        self.metrics.record_in(record.contract_topic)
        try:
            encoded = await self._transform(record, deferred=True)
        except _Rejected as rejected:
            kept = rejected.kept or record
            return [], [await self._router.route(kept, rejected.rejection)]
        self._router.record_success()
        return encoded, []

    def outputs_sent(self, outputs: list[Encoded], sent: list[Encoded]) -> None:
        """The batch sends ``sent`` of its ``outputs`` (the rest coalesced away): count and
        time what goes to the topics (events out, freshness when handed to the producer)."""
        delivered = {id(encoded) for encoded in sent}
        reached = []
        for encoded in outputs:
            output = self._unsent.pop(id(encoded), None)
            if output is not None and id(encoded) in delivered:
                reached.append(output)
        self.metrics.record_outputs(reached)

    async def _send_all(self, encoded: list[Encoded]) -> list[Any]:
        futures = [
            await self._send(topic, key, value, None, headers)
            for topic, key, value, headers in encoded
        ]
        self._router.record_success()
        return futures

    async def _transform(self, record: SourceRecord, *, deferred: bool = False) -> list[Encoded]:
        try:
            value = await self._decoders[record.contract_topic].decode(record.value)
        except UndecodableRecord as exc:
            raise _Rejected(Rejection.of(exc, exc.dlq_reason), masked_undecodable(record)) from exc
        # Whatever a record is rejected for, the DLQ keeps it masked: a record refused for a
        # formula (or a step bug) may hold a 個人番号 in another field or a header.
        try:
            produced = self.stage.step(record, value)
            if inspect.isawaitable(produced):
                produced = await produced
            outputs = list(produced)
        except InvalidRecord as exc:
            rejection = Rejection.of(exc, cast(DlqReason, exc.dlq_reason))
            raise _Rejected(rejection, masked_refused(record, value)) from exc
        except Exception as exc:  # a step bug must not stop the stream: DLQ 'processing'
            raise _Rejected(Rejection.of(exc, "processing"), masked_refused(record, value)) from exc
        try:
            encoded = [self._encode(record, output) for output in outputs]
        except Exception as exc:
            raise _Rejected(Rejection.of(exc, "processing"), masked_refused(record, value)) from exc
        if deferred:  # counted when the batch delivers them (outputs_sent)
            for item, output in zip(encoded, outputs, strict=True):
                self._unsent[id(item)] = output
        else:
            self.metrics.record_outputs(outputs)
        return encoded

    def _encode(self, record: SourceRecord, output: Output) -> Encoded:
        carried = record.headers if output.headers is None else output.headers
        headers = [(n, v) for n, v in carried if n != DATASCHEMA_HEADER]
        if output.value is None:  # a tombstone: no value, so no schema to point at
            return self._names.topic(output.topic), output.key, None, headers
        value = self._encoders.encode(output.topic, output.value)
        dataschema = self._dataschema.get(output.topic)  # None: an internal JSON topic
        if dataschema is not None:
            headers.append((DATASCHEMA_HEADER, dataschema))
        return self._names.topic(output.topic), output.key, value, headers


class _Rejected(Exception):
    """``kept``: the copy of the record to route when it must differ from what was consumed
    (a masked 個人番号)."""

    def __init__(self, rejection: Rejection, kept: SourceRecord | None = None):
        self.rejection = rejection
        self.kept = kept
