"""SCRAM users and ACLs through the Kafka protocol (aiokafka's connection, our request types).

aiokafka's admin client (0.14) has no ACL or SCRAM methods, and Kafka's own ``kafka-acls`` /
``kafka-configs`` tools start one JVM per user (half a minute for the repository's agreements).
So this module speaks the five admin APIs itself over an authenticated aiokafka connection:
DescribeAcls v1, CreateAcls v1, DeleteAcls v1 (all Kafka 2.0+ and still in 4.x), and
DescribeUserScramCredentials v0 / AlterUserScramCredentials v0 (flexible versions, Kafka 2.7+).
The SCRAM credential is salted and hashed here (RFC 5802 ``Hi``), so the password itself never
crosses the wire.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest_v1,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from renkei.errors import ConfigurationError, StackError

# Kafka's enum codes (org.apache.kafka.common.acl / resource).
RESOURCE_CODES = {"TOPIC": 2, "GROUP": 3, "CLUSTER": 4}
PATTERN_CODES = {"LITERAL": 3, "PREFIXED": 4}
OPERATION_CODES = {
    "READ": 3,
    "WRITE": 4,
    "CREATE": 5,
    "DESCRIBE": 8,
    "DESCRIBE_CONFIGS": 10,  # the registry (Apicurio) checks its journal topic's settings
    "IDEMPOTENT_WRITE": 12,
}
_ANY, _ALLOW = 1, 3
SCRAM_SHA_512 = 2
SCRAM_ITERATIONS = 8192
CLUSTER_RESOURCE = "kafka-cluster"
_RESOURCE_NAMES = {code: name for name, code in RESOURCE_CODES.items()}


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW binding for a principal from any host (the only kind agreements make)."""

    principal: str
    resource_type: str
    resource_name: str
    pattern: str
    operation: str

    def describe(self) -> str:
        """``User:x READ TOPIC view.p.resident (LITERAL)``: for change lines and audit."""
        return (
            f"{self.principal} {self.operation} {self.resource_type} {self.resource_name}"
            f" ({self.pattern})"
        )


class DescribeUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 50
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("error_code", Int16),
        ("error_message", CompactString("utf-8")),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                (
                    "credential_infos",
                    CompactArray(
                        ("mechanism", Int8), ("iterations", Int32), ("tags", TaggedFields)
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class DescribeUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 50
    API_VERSION = 0
    RESPONSE_TYPE = DescribeUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("users", CompactArray(("name", CompactString("utf-8")), ("tags", TaggedFields))),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user_name", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _Prepared(Request[Any]):  # type: ignore[misc]
    """A request whose single version is built up front (aiokafka negotiates nothing else)."""

    API_KEY: ClassVar[int] = -1

    def __init__(self, struct: RequestStruct):
        self._struct = struct

    def build(self, request_struct_class: type[Any]) -> Any:
        return self._struct

    def prepare(self, versions: dict[int, tuple[int, int]]) -> Any:
        api = self._struct.API_KEY
        low, high = versions.get(api, (0, -1))
        if not low <= self._struct.API_VERSION <= high:
            raise StackError(
                f"the broker does not support Kafka API {api} v{self._struct.API_VERSION} "
                "(ACLs need Kafka 2.0+, SCRAM administration Kafka 2.7+)"
            )
        return self._struct


def salted_password(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> bytes:
    """SCRAM-SHA-512 ``SaltedPassword := Hi(password, salt, i)`` (RFC 5802; PBKDF2-HMAC)."""
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)


def _check(code: int, message: str | None, what: str) -> None:
    if code:
        raise StackError(f"{what}: Kafka error {code} ({message or 'no message'})")


class KafkaAccessAdmin:
    """SCRAM users and ACL bindings on one cluster, through an authenticated admin client."""

    def __init__(self, admin: AIOKafkaAdminClient):
        self.admin = admin

    async def _send(self, struct: RequestStruct) -> Any:
        try:
            return await self.admin._send_to_controller(_Prepared(struct))
        except KafkaError as exc:
            raise StackError(f"Kafka admin request failed: {type(exc).__name__}") from exc

    async def scram_users(self) -> set[str]:
        """Every user holding a SCRAM-SHA-512 credential."""
        response = await self._send(DescribeUserScramCredentialsRequest_v0(None, {}))
        _check(response.error_code, response.error_message, "describing SCRAM users")
        return {
            user
            for user, code, _message, infos, _tags in response.results
            if not code and any(info[0] == SCRAM_SHA_512 for info in infos)
        }

    async def upsert_scram_user(self, user: str, password: str) -> None:
        """Create or replace ``user``'s SCRAM-SHA-512 credential."""
        if not password:
            raise ConfigurationError(f"empty password for {user}")
        salt = secrets.token_bytes(32)
        upsertion: tuple[Any, ...] = (
            user,
            SCRAM_SHA_512,
            SCRAM_ITERATIONS,
            salt,
            salted_password(password, salt),
            {},
        )
        response = await self._send(AlterUserScramCredentialsRequest_v0([], [upsertion], {}))
        for name, code, message, _tags in response.results:
            _check(code, message, f"SCRAM credential of {name}")

    async def delete_scram_user(self, user: str) -> None:
        """Remove ``user``'s SCRAM-SHA-512 credential (it can no longer log in)."""
        response = await self._send(
            AlterUserScramCredentialsRequest_v0([(user, SCRAM_SHA_512, {})], [], {})
        )
        for name, code, message, _tags in response.results:
            _check(code, message, f"deleting SCRAM credential of {name}")

    async def acls_of(self, principal: str) -> set[Acl]:
        """The ALLOW bindings of ``principal`` (any resource, pattern, host and operation)."""
        request = DescribeAclsRequest_v1(_ANY, None, _ANY, principal, None, _ANY, _ANY)
        response = await self._send(request)
        _check(response.error_code, response.error_message, f"describing ACLs of {principal}")
        found: set[Acl] = set()
        patterns = {code: name for name, code in PATTERN_CODES.items()}
        operations = {code: name for name, code in OPERATION_CODES.items()}
        for resource_type, name, pattern, acls in response.resources:
            for acl_principal, _host, operation, permission in acls:
                if permission != _ALLOW or acl_principal != principal:
                    continue
                found.add(
                    Acl(
                        principal,
                        _RESOURCE_NAMES.get(resource_type, str(resource_type)),
                        name,
                        patterns.get(pattern, str(pattern)),
                        operations.get(operation, str(operation)),
                    )
                )
        return found

    async def create_acls(self, acls: Iterable[Acl]) -> None:
        creations = [
            (
                RESOURCE_CODES[acl.resource_type],
                acl.resource_name,
                PATTERN_CODES[acl.pattern],
                acl.principal,
                "*",
                OPERATION_CODES[acl.operation],
                _ALLOW,
            )
            for acl in sorted(acls)
        ]
        if not creations:
            return
        response = await self._send(CreateAclsRequest_v1(creations))
        for code, message in response.creation_responses:
            _check(code, message, "creating an ACL")

    async def delete_acls(self, acls: Iterable[Acl]) -> None:
        filters = [
            (
                RESOURCE_CODES.get(acl.resource_type, _ANY),
                acl.resource_name,
                PATTERN_CODES.get(acl.pattern, _ANY),
                acl.principal,
                "*",
                OPERATION_CODES.get(acl.operation, _ANY),
                _ALLOW,
            )
            for acl in sorted(acls)
        ]
        if not filters:
            return
        response = await self._send(DeleteAclsRequest_v1(filters))
        for code, message, _matching in response.filter_responses:
            _check(code, message, "deleting an ACL")
