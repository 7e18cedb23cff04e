"""Certificates of the secure local stack, made on this machine (no keytool, no openssl).

A private CA signs one broker certificate valid for ``127.0.0.1`` and ``localhost``; its common
name ``renkei-broker`` is also the broker's own principal on the mutual-TLS controller listener
(``User:CN=renkei-broker``, a super user). Everything is PEM, which Kafka (``ssl.*.type=PEM``),
Apicurio's Kafka clients and Python's ``ssl`` module all read:

- ``ca.pem`` — the CA certificate: the truststore of every client (``RENKEI_KAFKA_SSL_CAFILE``);
- ``ca.key`` — the CA's private key (0600), kept to re-issue the broker certificate;
- ``broker.pem`` — the broker's unencrypted PKCS#8 key followed by its certificate and the CA
  (0600), Kafka's PEM keystore.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BROKER_COMMON_NAME = "renkei-broker"
CA_COMMON_NAME = "Renkei local stack CA"
_VALID_DAYS = 825  # the longest validity browsers and most TLS stacks still accept


@dataclass(frozen=True)
class TlsFiles:
    """Where the PEM files of one stack home live."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def broker_keystore(self) -> Path:
        return self.folder / "broker.pem"

    @property
    def complete(self) -> bool:
        return all(path.is_file() for path in (self.ca_cert, self.ca_key, self.broker_keystore))


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (0600 from the first byte)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    temporary.replace(path)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def new_ca(
    now: dt.datetime, common_name: str = CA_COMMON_NAME
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A private CA (P-256) valid from a few minutes before ``now``; its key and certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def new_broker_certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    now: dt.datetime,
    dns_names: tuple[str, ...] = ("localhost",),
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The broker's key and certificate signed by the CA: ``dns_names`` and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(BROKER_COMMON_NAME))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            # serverAuth for its listeners, clientAuth for its own calls to the controller.
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def ensure_tls_files(folder: Path) -> TlsFiles:
    """The CA and broker PEM files under ``folder``, made once and kept (idempotent)."""
    files = TlsFiles(folder)
    if files.complete:
        return files
    now = dt.datetime.now(dt.UTC)
    ca_key, ca_cert = new_ca(now)
    broker_key, broker_cert = new_broker_certificate(ca_key, ca_cert, now)
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    write_private(files.ca_key, _key_pem(ca_key))
    write_private(
        files.broker_keystore,
        _key_pem(broker_key) + broker_cert.public_bytes(serialization.Encoding.PEM) + ca_pem,
    )
    write_private(files.ca_cert, ca_pem)
    files.ca_cert.chmod(0o644)  # public: clients of other users may need to trust it
    return files
