"""Client security from settings: one function, secrets never shown (no broker needed)."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest

from renkei.errors import ConfigurationError
from renkei.kafka_security import (
    faust_broker_credentials,
    kafka_client_options,
    kafka_security,
)
from renkei.settings import Settings
from renkei.stack.secure_tls import ensure_tls_files

PASSWORD = "s3cret-Pa55-word-never-shown"


@pytest.fixture(scope="module")
def cafile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_tls_files(tmp_path_factory.mktemp("tls")).ca_cert


def _secure(cafile: Path, **extra: object) -> Settings:
    values: dict[str, object] = {
        "kafka_bootstrap": "127.0.0.1:19092",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_username": "dept-checkup",
        "kafka_sasl_password": PASSWORD,
        "kafka_ssl_cafile": cafile,
        **extra,
    }
    return Settings(**values)  # type: ignore[arg-type]


def test_plaintext_adds_nothing_but_the_bootstrap() -> None:
    settings = Settings(kafka_bootstrap="127.0.0.1:9092", kafka_security_protocol="PLAINTEXT")
    assert kafka_client_options(settings) == {"bootstrap_servers": "127.0.0.1:9092"}
    assert faust_broker_credentials(settings) is None


def test_sasl_ssl_options_for_aiokafka_and_faust(cafile: Path) -> None:
    settings = _secure(cafile)
    options = kafka_client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "dept-checkup"
    assert options["sasl_plain_password"] == PASSWORD
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    credentials = faust_broker_credentials(settings)
    assert credentials is not None
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.protocol.value == "SASL_SSL"
    assert PASSWORD not in repr(credentials)


def test_password_file_is_read_and_stripped(tmp_path: Path, cafile: Path) -> None:
    secret = tmp_path / "dept-checkup.password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    settings = _secure(cafile, kafka_sasl_password=None, kafka_sasl_password_file=secret)
    assert kafka_client_options(settings)["sasl_plain_password"] == PASSWORD


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"kafka_sasl_username": None}, "RENKEI_KAFKA_SASL_USERNAME"),
        ({"kafka_sasl_password": None}, "RENKEI_KAFKA_SASL_PASSWORD"),
        ({"kafka_ssl_cafile": Path("/nonexistent/ca.pem")}, "RENKEI_KAFKA_SSL_CAFILE"),
        (
            {"kafka_sasl_password": None, "kafka_sasl_password_file": Path("/nonexistent/pw")},
            "PASSWORD_FILE",
        ),
    ],
)
def test_incomplete_security_settings_are_refused(
    cafile: Path, extra: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        kafka_security(_secure(cafile, **extra))
    assert PASSWORD not in str(caught.value)


def test_the_password_never_shows_in_settings_or_logs(
    cafile: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _secure(cafile)
    security = kafka_security(settings)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("renkei.test").info("settings %s %r %s", settings, settings, security)
    shown = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        str(settings.model_dump()),
        repr(security),
        caplog.text,
    ]
    assert "dept-checkup" in caplog.text  # the log line really holds the settings
    for text in shown:
        assert PASSWORD not in text


def test_the_password_comes_from_the_environment_as_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RENKEI_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("RENKEI_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    settings = Settings()
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.kafka_sasl_password is not None
    assert settings.kafka_sasl_password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(settings)
