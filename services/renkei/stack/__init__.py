"""The local stack: a real Kafka broker and Apicurio Registry, fetched by Maven, run detached.

Entry points (used by ``renkei stack up|down|status`` and by integration tests):

- :func:`ensure_stack_up` — idempotent start, waits until both servers answer;
- :func:`stack_status` — probes both servers, changes nothing;
- :func:`stop_stack` — stops only the processes the stack started, optionally wipes data.

Files live under ``settings.home`` (see :mod:`renkei.stack.layout`).
"""

from renkei.stack.endpoints import StackEndpoints
from renkei.stack.java import JavaRuntime, find_java, find_registry_java
from renkei.stack.layout import StackLayout
from renkei.stack.manager import StopReport, ensure_stack_up, stop_stack
from renkei.stack.status import ServerStatus, StackStatus, stack_status
from renkei.stack.versions import APICURIO_VERSION, DEFAULT_KAFKA_VERSION, KafkaVersion

__all__ = [
    "APICURIO_VERSION",
    "DEFAULT_KAFKA_VERSION",
    "JavaRuntime",
    "KafkaVersion",
    "ServerStatus",
    "StackEndpoints",
    "StackLayout",
    "StackStatus",
    "StopReport",
    "ensure_stack_up",
    "find_java",
    "find_registry_java",
    "stack_status",
    "stop_stack",
]
