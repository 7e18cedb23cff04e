"""``renkei catalogue export|serve``: the offline export, and clear errors."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from click.testing import CliRunner

from renkei.cli import cli
from renkei.schemas.catalogue import Catalogue


def test_offline_export_has_a_dataset_per_topic(tmp_path: Path, catalogue: Catalogue) -> None:
    out = tmp_path / "catalogue.jsonld"
    result = CliRunner().invoke(
        cli,
        ["catalogue", "export", "--offline", "--out", str(out)],
        env={"RENKEI_CATALOGUE_BASE_URL": "https://catalogue.example.lg.jp"},
    )
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    ids = {d["dct:identifier"] for d in document["dcat:dataset"]}
    assert set(catalogue.topics) <= ids and any(i.startswith("view.") for i in ids)
    assert document["@id"] == "https://catalogue.example.lg.jp/catalogue"
    assert f"wrote {len(ids)} datasets" in result.output


def test_export_without_the_registry_says_so(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(
        cli,
        ["catalogue", "export"],
        env={"RENKEI_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{port}/apis/ccompat/v7"},
    )
    assert result.exit_code != 0
    assert "registry did not answer" in result.output and "--offline" in result.output


def test_serve_refuses_a_bad_setting() -> None:
    result = CliRunner().invoke(
        cli, ["catalogue", "serve"], env={"RENKEI_CATALOGUE_PORT": "not-a-port"}
    )
    assert result.exit_code == 2 and "RENKEI_CATALOGUE" in result.output


def test_serve_on_a_taken_port_exits_1() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = CliRunner().invoke(cli, ["catalogue", "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.output


def test_serve_with_an_unusable_identity_module_exits_1() -> None:
    result = CliRunner().invoke(
        cli, ["catalogue", "serve", "--port", "1"], env={"RENKEI_CATALOGUE_IDENTITY": "nope:x"}
    )
    assert result.exit_code == 1
    assert "identity module 'nope:x' cannot be imported" in str(result.exception or result.output)
