"""The secure stack's files: broker properties, certificates, secrets on disk (no JVM)."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

from cryptography import x509

from renkei.stack.endpoints import StackEndpoints
from renkei.stack.kafka_config import render_server_properties
from renkei.stack.secure import ADMIN_USER, ensure_broker_security, load_broker_security
from renkei.stack.versions import KafkaVersion

ENDPOINTS = StackEndpoints("127.0.0.1", 19092, "http://127.0.0.1:18081", "127.0.0.1", 18081)


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_secure_broker_has_no_plaintext_listener_and_an_authorizer(tmp_path: Path) -> None:
    security = ensure_broker_security(tmp_path)
    props = _properties(
        render_server_properties(KafkaVersion.parse("3.9.1"), ENDPOINTS, tmp_path, security)
    )
    assert props["listeners"] == "SASL_SSL://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert "PLAINTEXT" not in props["listener.security.protocol.map"]
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == f"User:CN=renkei-broker;User:{ADMIN_USER}"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"


def test_plain_broker_properties_are_unchanged(tmp_path: Path) -> None:
    props = _properties(render_server_properties(KafkaVersion.parse("3.9.1"), ENDPOINTS, tmp_path))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert "authorizer.class.name" not in props and "sasl.enabled.mechanisms" not in props


def test_secrets_are_private_and_made_once(tmp_path: Path) -> None:
    first = ensure_broker_security(tmp_path)
    again = ensure_broker_security(tmp_path)
    assert again.admin_password == first.admin_password
    assert load_broker_security(tmp_path) == first
    assert first.admin_password not in repr(first)
    config = first.write_registry_config()
    private = [first.admin_password_file, first.tls.ca_key, first.tls.broker_keystore, config]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((tmp_path / "secrets").stat().st_mode) == 0o700
    assert "apicurio.kafka.common.security.protocol=SASL_SSL" in config.read_text()
    env = first.client_environment(ENDPOINTS)
    assert env["RENKEI_KAFKA_SASL_PASSWORD_FILE"] == str(first.admin_password_file)
    assert first.admin_password not in str(env)


def test_broker_certificate_is_signed_by_the_ca_for_loopback(tmp_path: Path) -> None:
    tls = ensure_broker_security(tmp_path).tls
    cert = x509.load_pem_x509_certificates(tls.broker_keystore.read_bytes())[0]
    ca = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    # Python clients can load it as their trust store.
    ssl.create_default_context(cafile=str(tls.ca_cert))
