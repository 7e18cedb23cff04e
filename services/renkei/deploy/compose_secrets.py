"""The secrets of the secure docker-compose deployment, made once on the host:
``python -m renkei.deploy.compose_secrets`` (default folder ``deploy/compose/secrets``, 0700).

========================================  ===================================================
``tls/ca.pem``, ``tls/ca.key``            a private CA (keep the key off the Docker host)
``tls/broker.pem``                        the broker's key + certificate (CN renkei-broker,
                                          SAN ``kafka``, ``localhost``, ``127.0.0.1``)
``users/<principal>.password``            one SCRAM password per principal: the super user
                                          ``renkei-admin``, every agreement, stage and service
                                          principal (``renkei.deploy.principals``)
``registry-writer.password``              the registry proxy's writer ``renkei-schema``
``kafka-server.properties``               the broker's whole configuration (it holds the
                                          inter-broker JAAS line of ``renkei-admin``)
``registry-kafka.properties``             Apicurio kafkasql's client settings as
                                          ``renkei-registry``
``kafka-cluster-id``                      the KRaft cluster id the data volume is formatted with
``staff-users.yaml``                      not made here: write it with ``renkei identity
                                          hash`` (the staff login of the staff pages)
========================================  ===================================================

Every file is 0600 and kept when it exists (re-running adds what is missing: a new agreement's
password). docker compose mounts each service's own files only (``secrets:`` in
docker-compose.yml). Containers run as different users (Kafka 1000, Apicurio 1001, Renkei
65534); ``--chown`` (as root) gives each file to the user of the container that reads it.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
import sys
import uuid
from collections.abc import Iterable
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from renkei.deploy.k8s_users import principals
from renkei.deploy.principals import ADMIN_USER, REGISTRY_TOPIC_PREFIX, REGISTRY_USER
from renkei.errors import RenkeiError
from renkei.settings import Settings, load_settings
from renkei.stack.secure_tls import BROKER_COMMON_NAME, new_broker_certificate, new_ca

SCRAM = "SCRAM-SHA-512"
SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
BROKER_CN = BROKER_COMMON_NAME
BROKER_NAMES = ("kafka", "localhost")
MOUNT = "/run/secrets"
"""Where docker compose mounts the secrets in a container."""
KAFKA_UID, REGISTRY_UID, RENKEI_UID = 1000, 1001, 65534


def _private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    path.chmod(0o600)


def _jaas(user: str, password: str) -> str:
    return f'{SCRAM_LOGIN} required username="{user}" password="{password}";'


def server_properties(admin_password: str) -> list[tuple[str, str]]:
    """The broker's configuration: two SASL_SSL listeners (containers at kafka:19092, the host
    at 127.0.0.1:9092), the KRaft controller over mutual TLS, StandardAuthorizer, no ACL no
    access, ``renkei-admin`` the only super user besides the broker's own certificate."""
    broker_pem = f"{MOUNT}/kafka-broker.pem"
    return [
        ("process.roles", "broker,controller"),
        ("node.id", "1"),
        ("controller.quorum.voters", "1@kafka:9093"),
        ("listeners", "INTERNAL://:19092,EXTERNAL://:9092,CONTROLLER://:9093"),
        ("advertised.listeners", "INTERNAL://kafka:19092,EXTERNAL://127.0.0.1:9092"),
        ("listener.security.protocol.map", "INTERNAL:SASL_SSL,EXTERNAL:SASL_SSL,CONTROLLER:SSL"),
        ("inter.broker.listener.name", "INTERNAL"),
        ("controller.listener.names", "CONTROLLER"),
        ("sasl.enabled.mechanisms", SCRAM),
        ("sasl.mechanism.inter.broker.protocol", SCRAM),
        (
            "listener.name.internal.scram-sha-512.sasl.jaas.config",
            _jaas(ADMIN_USER, admin_password),
        ),
        # every SASL listener needs its own JAAS entry; the host's listener only verifies
        ("listener.name.external.scram-sha-512.sasl.jaas.config", f"{SCRAM_LOGIN} required;"),
        ("ssl.keystore.type", "PEM"),
        ("ssl.keystore.location", broker_pem),
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.location", f"{MOUNT}/ca.pem"),
        ("listener.name.controller.ssl.client.auth", "required"),
        ("authorizer.class.name", AUTHORIZER),
        ("super.users", f"User:CN={BROKER_CN};User:{ADMIN_USER}"),
        ("allow.everyone.if.no.acl.found", "false"),
        ("log.dirs", "/var/lib/kafka/data"),
        ("num.partitions", "3"),
        ("auto.create.topics.enable", "false"),
        ("offsets.topic.replication.factor", "1"),
        ("transaction.state.log.replication.factor", "1"),
        ("transaction.state.log.min.isr", "1"),
        ("group.initial.rebalance.delay.ms", "0"),
    ]


def registry_properties(password: str) -> list[tuple[str, str]]:
    """Apicurio kafkasql → Kafka as ``renkei-registry`` (``-Dquarkus.config.locations``)."""
    return [
        ("apicurio.kafkasql.topic", REGISTRY_TOPIC_PREFIX),
        ("apicurio.kafkasql.snapshots.topic", f"{REGISTRY_TOPIC_PREFIX}_snapshots"),
        ("apicurio.events.kafka.topic", f"{REGISTRY_TOPIC_PREFIX}_events"),
        ("apicurio.kafka.common.security.protocol", "SASL_SSL"),
        ("apicurio.kafka.common.sasl.mechanism", SCRAM),
        ("apicurio.kafka.common.sasl.jaas.config", _jaas(REGISTRY_USER, password)),
        ("apicurio.kafka.common.ssl.truststore.type", "PEM"),
        ("apicurio.kafka.common.ssl.truststore.location", f"{MOUNT}/ca.pem"),
    ]


def _properties(lines: Iterable[tuple[str, str]], what: str) -> bytes:
    head = f"# {what}: written by python -m renkei.deploy.compose_secrets (0600, do not commit)\n"
    return (head + "".join(f"{k}={v}\n" for k, v in lines)).encode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_tls(folder: Path) -> None:
    """A private CA and the broker's certificate for the container and host names."""
    now = dt.datetime.now(dt.UTC)
    ca_key, ca = new_ca(now, "Renkei compose CA")
    key, broker = new_broker_certificate(ca_key, ca, now, BROKER_NAMES)
    pem = serialization.Encoding.PEM
    _private(folder / "ca.key", _key_pem(ca_key))
    _private(folder / "ca.pem", ca.public_bytes(pem))
    _private(folder / "broker.pem", _key_pem(key) + broker.public_bytes(pem) + ca.public_bytes(pem))


def _password(path: Path) -> str:
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(24)
    _private(path, (password + "\n").encode())
    return password


def owners(out: Path) -> dict[Path, int]:
    """Which container user reads each file (``--chown``)."""
    found: dict[Path, int] = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            name = path.relative_to(out).as_posix()
            if name in {"kafka-server.properties", "kafka-cluster-id", "tls/broker.pem"}:
                found[path] = KAFKA_UID
            elif name == "registry-kafka.properties":
                found[path] = REGISTRY_UID
            elif name != "tls/ca.key":
                found[path] = RENKEI_UID
    return found


def make_secrets(settings: Settings, out: Path) -> list[str]:
    """Make what is missing under ``out``; the names made (never their content)."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out.chmod(0o700)
    made: list[str] = []
    if not (out / "tls" / "broker.pem").is_file():
        make_tls(out / "tls")
        made += ["tls/ca.pem", "tls/ca.key", "tls/broker.pem"]
    passwords: dict[str, str] = {}
    for user in principals(settings):
        path = out / "users" / f"{user}.password"
        if not path.is_file():
            made.append(f"users/{user}.password")
        passwords[user] = _password(path)
    if not (out / "registry-writer.password").is_file():
        made.append("registry-writer.password")
    _password(out / "registry-writer.password")
    if not (out / "kafka-cluster-id").is_file():
        cluster_id = uuid.uuid4().bytes
        text = base64.urlsafe_b64encode(cluster_id).decode().rstrip("=")
        _private(out / "kafka-cluster-id", (text + "\n").encode())
        made.append("kafka-cluster-id")
    _private(
        out / "kafka-server.properties",
        _properties(server_properties(passwords[ADMIN_USER]), "Kafka broker"),
    )
    _private(
        out / "registry-kafka.properties",
        _properties(registry_properties(passwords[REGISTRY_USER]), "Apicurio kafkasql"),
    )
    return made


@click.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("deploy/compose/secrets"),
    show_default=True,
    help="Folder for the secrets (0700; git-ignored).",
)
@click.option("--chown", is_flag=True, help="Give each file to its container's user (root only).")
def main(out: Path, chown: bool) -> None:
    """Make the secrets of the secure docker-compose deployment (docs/security.md)."""
    try:
        made = make_secrets(load_settings(), out)
    except RenkeiError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(1)
    for name in made:
        click.echo(f"made {out / name}")
    if chown:
        for path, uid in owners(out).items():
            os.chown(path, uid, uid)
        click.echo("owners set: Kafka 1000, Apicurio 1001, Renkei 65534")
    click.echo(f"{len(made)} file(s) made; the others kept. Passwords are never printed.")


if __name__ == "__main__":
    main()
