"""``renkei tail TOPIC``: decode a topic through the registry and print one JSON object a line."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass

import click
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError

from renkei.cli.common import run, settings_of
from renkei.errors import RegistryError, SerializationError, StackError
from renkei.kafka_security import kafka_client_options
from renkei.publish.cloudevents import headers_as_dict
from renkei.schemas.jsonform import JST, to_json
from renkei.serde.avro import AvroDecoder
from renkei.serde.registry import registry_client
from renkei.settings import Settings


@click.command("tail")
@click.argument("topic")
@click.option(
    "--from-beginning", is_flag=True, help="Start at the oldest record (default: newest)."
)
@click.option("-n", "--max-messages", type=click.IntRange(min=1), help="Stop after N records.")
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.1),
    help="Stop after S seconds without a record (default: follow for ever).",
)
@click.option("--headers", is_flag=True, help="Include Kafka headers (CloudEvents ce_*).")
@click.option("--value-only", is_flag=True, help="Print only the decoded value.")
@click.pass_context
def tail(
    ctx: click.Context,
    topic: str,
    from_beginning: bool,
    max_messages: int | None,
    idle_timeout: float | None,
    headers: bool,
    value_only: bool,
) -> None:
    """Print TOPIC's records as JSON lines, decoded with the writer schema from the registry.

    Reads without a consumer group (nothing is committed). A record that cannot be decoded is
    reported on stderr with its partition and offset, and tailing goes on.
    """
    options = TailOptions(from_beginning, max_messages, idle_timeout, headers, value_only)
    run(tail_topic(settings_of(ctx), topic, options))


@dataclass(frozen=True)
class TailOptions:
    """How much to read and what to print (the command's options)."""

    from_beginning: bool = False
    max_messages: int | None = None
    idle_timeout: float | None = None
    headers: bool = False
    value_only: bool = False


async def tail_topic(settings: Settings, topic: str, options: TailOptions) -> None:
    """Print ``topic``'s records as JSON lines until the options say stop."""
    from_beginning, max_messages = options.from_beginning, options.max_messages
    idle_timeout, headers, value_only = options.idle_timeout, options.headers, options.value_only
    consumer = AIOKafkaConsumer(
        **kafka_client_options(settings),
        enable_auto_commit=False,
        group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    try:
        await _assign(consumer, topic)
    except KafkaError as exc:
        await consumer.stop()
        raise StackError(
            f"Kafka at {settings.kafka_bootstrap} not reachable; is the stack up?"
        ) from exc
    except StackError:
        await consumer.stop()
        raise
    printed = 0
    async with registry_client(settings) as registry:
        decoder = AvroDecoder(registry)
        try:
            while max_messages is None or printed < max_messages:
                try:
                    message = await asyncio.wait_for(consumer.getone(), timeout=idle_timeout)
                except TimeoutError:
                    break
                line = await _render(decoder, message, headers, value_only)
                if line is not None:
                    click.echo(line)
                    printed += 1
        finally:
            await consumer.stop()


async def _assign(consumer: AIOKafkaConsumer, topic: str) -> None:
    """Start ``consumer`` on every partition of ``topic`` (no group: nothing is committed)."""
    await consumer.start()
    if topic not in await consumer.topics():
        raise StackError(f"topic {topic!r} does not exist (renkei schemas apply creates it)")
    consumer.subscribe([topic])


async def _render(decoder: AvroDecoder, message, headers: bool, value_only: bool) -> str | None:  # type: ignore[no-untyped-def]
    try:
        value = to_json(await decoder.decode(message.value))
    except (SerializationError, RegistryError) as exc:
        click.secho(
            f"partition {message.partition} offset {message.offset}: {exc}", fg="red", err=True
        )
        return None
    if value_only:
        return json.dumps(value, ensure_ascii=False)
    record = {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "timestamp": dt.datetime.fromtimestamp(message.timestamp / 1000, JST).isoformat(),
        "key": message.key.decode("utf-8", "replace") if message.key is not None else None,
        "value": value,
    }
    if headers:
        record["headers"] = headers_as_dict(message.headers)
    return json.dumps(record, ensure_ascii=False)
