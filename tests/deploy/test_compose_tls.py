"""The compose secrets' TLS material: a private CA and a broker certificate it signed."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509

from renkei.deploy.compose_secrets import BROKER_NAMES, make_tls


def test_the_broker_certificate_is_signed_by_the_ca_for_the_container_and_host_names(
    tmp_path: Path,
) -> None:
    make_tls(tmp_path)
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    chain = x509.load_pem_x509_certificates((tmp_path / "broker.pem").read_bytes())
    broker = chain[0]
    broker.verify_directly_issued_by(ca)
    assert chain[-1] == ca
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == set(BROKER_NAMES)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    for name in ("ca.key", "ca.pem", "broker.pem"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
