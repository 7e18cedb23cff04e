"""Addresses of the local stack come from the settings."""

from __future__ import annotations

import pytest

from renkei.errors import StackError
from renkei.settings import Settings
from renkei.stack.endpoints import StackEndpoints


def test_defaults_are_the_documented_addresses() -> None:
    endpoints = StackEndpoints.from_settings(
        Settings(
            kafka_bootstrap="127.0.0.1:9092",
            schema_registry_url="http://127.0.0.1:8081/apis/ccompat/v7",
        )
    )
    assert endpoints.kafka_bootstrap == "127.0.0.1:9092"
    assert endpoints.controller_port == 9093
    assert endpoints.registry_port == 8081 and endpoints.registry_management_port == 9081
    assert endpoints.registry_ready_url == "http://127.0.0.1:8081/apis/ccompat/v7/subjects"
    assert endpoints.registry_info_url == "http://127.0.0.1:8081/apis/registry/v3/system/info"
    endpoints.require_local()


def test_other_ports_and_localhost_are_served_on_loopback() -> None:
    endpoints = StackEndpoints.from_settings(
        Settings(
            kafka_bootstrap="localhost:19092,localhost:19094",
            schema_registry_url="http://localhost:18081/apis/ccompat/v7/",
        )
    )
    assert endpoints.kafka_bootstrap == "127.0.0.1:19092"
    assert endpoints.registry_url == "http://localhost:18081/apis/ccompat/v7"
    assert endpoints.registry_management_port == 19081
    endpoints.require_local()


def test_a_remote_cluster_is_not_started_locally() -> None:
    endpoints = StackEndpoints.from_settings(Settings(kafka_bootstrap="kafka.city.example:9092"))
    with pytest.raises(StackError, match=r"only serves 127\.0\.0\.1"):
        endpoints.require_local()


@pytest.mark.parametrize(
    ("bootstrap", "url"),
    [("127.0.0.1", "http://127.0.0.1:8081"), ("127.0.0.1:9092", "https://registry/")],
)
def test_malformed_addresses_are_refused(bootstrap: str, url: str) -> None:
    with pytest.raises(StackError):
        StackEndpoints.from_settings(Settings(kafka_bootstrap=bootstrap, schema_registry_url=url))
