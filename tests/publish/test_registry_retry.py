"""The publisher waits out a registry that is down (bounded, with a warning), and fails with
a clear message when it stays down; a 4xx answer is final at once."""

from __future__ import annotations

import asyncio
import logging

import pytest

from renkei.errors import RegistryError
from renkei.publish.producer import _TopicWriter
from renkei.schemas.catalogue import Catalogue
from tests.runtime.fake_registry import URL, FakeRegistry

TOPIC = "health.checkup.results"


async def test_retries_until_the_registry_is_back(
    catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeRegistry()
    spec = catalogue.get(TOPIC)
    schema_id = fake.add(spec.subject, spec.schema)
    fake.down = True
    writer = _TopicWriter(spec, fake.client(), "test")

    async def come_back() -> None:
        await asyncio.sleep(1.2)
        fake.down = False

    with caplog.at_level(logging.WARNING, logger="renkei.publish.producer"):
        await asyncio.gather(writer.prepare(URL, wait=10), come_back())
    assert writer.dataschema.endswith(f"/schemas/ids/{schema_id}")
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings and all("schema registry not available" in w for w in warnings)
    assert "retrying in" in warnings[0] and "giving up in" in warnings[0]


async def test_gives_up_with_a_clear_message(catalogue: Catalogue) -> None:
    fake = FakeRegistry()
    fake.down = True
    writer = _TopicWriter(catalogue.get(TOPIC), fake.client(), "test")
    with pytest.raises(RegistryError, match=r"still not available after 1\.5 s of retries"):
        await writer.prepare(URL, wait=1.5)
    assert len(fake.requests) >= 2


async def test_a_missing_subject_is_not_retried(catalogue: Catalogue) -> None:
    fake = FakeRegistry()
    writer = _TopicWriter(catalogue.get(TOPIC), fake.client(), "test")
    with pytest.raises(RegistryError, match="renkei schemas apply"):
        await writer.prepare(URL, wait=30)
    assert len(fake.requests) == 1
