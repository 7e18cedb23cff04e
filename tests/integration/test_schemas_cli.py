"""`renkei schemas apply|check` against the real registry."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka.admin import AdminClient, ConfigResource

from renkei.cli import cli
from renkei.schemas.catalogue import load_catalogue, load_topic
from renkei.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]
TOPIC = "registry.resident.events"


def _invoke(args: list[str], schemas_dir: Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, env={"RENKEI_SCHEMAS_DIR": str(schemas_dir)})


def _edit_schema(folder: Path, edit) -> None:  # type: ignore[no-untyped-def]
    path = folder / "value.avsc"
    schema = json.loads(path.read_text(encoding="utf-8"))
    edit(schema)
    path.write_text(json.dumps(schema, ensure_ascii=False), encoding="utf-8")


def test_apply_registers_every_subject_with_its_mode(
    live_stack: Settings, isolated_schemas_dir: tuple[Path, str]
) -> None:
    schemas_dir, prefix = isolated_schemas_dir
    first = _invoke(["schemas", "apply"], schemas_dir)
    assert first.exit_code == 0, first.output
    topics = len(list(load_catalogue(schemas_dir)))  # the folders and their bulk twins
    assert first.output.count(" registered (id ") == topics
    again = _invoke(["schemas", "apply"], schemas_dir)
    assert again.exit_code == 0 and again.output.count(" unchanged (id ") == topics
    url = live_stack.schema_registry_url
    for (
        folder
    ) in schemas_dir.iterdir():  # one lookup each: a long-lived registry lists 1000 at most
        with urllib.request.urlopen(f"{url}/subjects/{folder.name}-value/versions") as response:
            assert json.load(response) == [1], folder.name
    with urllib.request.urlopen(f"{url}/config/{prefix}.{TOPIC}-value") as response:
        config = json.load(response)
    assert (config.get("compatibilityLevel") or config.get("compatibility")) == "FULL_TRANSITIVE"

    # Topics exist with the catalogue's partition counts and cleanup policy.
    admin = AdminClient({"bootstrap.servers": live_stack.kafka_bootstrap})
    metadata = admin.list_topics(timeout=10).topics
    for folder in schemas_dir.iterdir():
        spec = load_topic(folder)
        assert len(metadata[spec.topic].partitions) == spec.partitions
        resource = ConfigResource(ConfigResource.Type.TOPIC, spec.topic)
        configs = admin.describe_configs([resource])[resource].result()
        assert configs["cleanup.policy"].value == spec.cleanup_policy


def test_check_names_the_field_of_an_incompatible_change_and_accepts_a_compatible_one(
    live_stack: Settings, isolated_schemas_dir: tuple[Path, str]
) -> None:
    schemas_dir, prefix = isolated_schemas_dir
    topic = f"{prefix}.{TOPIC}"
    assert _invoke(["schemas", "apply", "--topic", topic], schemas_dir).exit_code == 0
    unchanged = _invoke(["schemas", "check", "--topic", topic], schemas_dir)
    assert unchanged.exit_code == 0 and "unchanged" in unchanged.output

    folder = schemas_dir / topic
    original = (folder / "value.avsc").read_text(encoding="utf-8")
    _edit_schema(
        folder,
        lambda s: s["fields"].append(
            {
                "name": "batch_id",
                "type": ["null", "string"],
                "default": None,
                "doc": "一括取込の識別子 / batch identifier",
            }
        ),
    )
    compatible = _invoke(["schemas", "check", "--topic", topic], schemas_dir)
    assert compatible.exit_code == 0, compatible.output
    assert "compatible" in compatible.output

    (folder / "value.avsc").write_text(original, encoding="utf-8")
    _edit_schema(
        folder, lambda s: s.update(fields=[f for f in s["fields"] if f["name"] != "source_system"])
    )
    removed = _invoke(["schemas", "check", "--topic", topic], schemas_dir)
    assert removed.exit_code == 1
    assert "INCOMPATIBLE" in removed.output
    assert "source_system: field removed, but it has no default" in removed.output

    refused = _invoke(["schemas", "apply", "--topic", topic, "--no-topics"], schemas_dir)
    assert refused.exit_code == 1
    assert "source_system" in refused.output
