"""The change-data-capture part of the local stack: worker and connector configuration (no
servers), and `renkei stack status` with PostgreSQL and Kafka Connect running (live)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.cli.stack_cmd import stack
from renkei.errors import ConfigurationError
from renkei.input_formats.cdc_connector import connector_config, slot_name
from renkei.input_formats.cdc_mapping import CdcRules
from renkei.settings import Settings
from renkei.stack import ensure_stack_up
from renkei.stack.connect_server import render_worker_properties
from renkei.stack.layout import StackLayout
from renkei.stack.postgres_server import password_path, server_settings

RULES = CdcRules(table="public.jumin_kiroku", change_columns=("ido_jiyu", "ido_ymd"))


def _settings(tmp_path: Path, **changes: object) -> Settings:
    return Settings(home=tmp_path, **changes)  # type: ignore[arg-type]


def test_the_worker_runs_json_with_schemas_on_loopback_with_the_file_provider(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, connect_url="http://127.0.0.1:29175")
    text = render_worker_properties(settings, StackLayout(tmp_path))
    lines = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert lines["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    assert lines["value.converter.schemas.enable"] == "true"
    assert lines["listeners"] == "http://127.0.0.1:29175"
    assert lines["plugin.path"].endswith("downloads/debezium-3.6.1.Final/plugins")
    assert lines["config.providers.file.class"].endswith("FileConfigProvider")
    assert all(lines[f"{kind}.storage.topic"].startswith("_renkei_connect_") for kind in
               ("config", "offset", "status"))  # fmt: skip


def test_postgres_runs_logical_decoding_on_loopback(tmp_path: Path) -> None:
    values = dict(
        server_settings(_settings(tmp_path, cdc_database_port=29177), StackLayout(tmp_path))
    )
    assert values["wal_level"] == "logical"
    assert values["listen_addresses"] == "'127.0.0.1'"
    assert values["port"] == "29177"


def test_the_connector_names_the_password_file_never_the_password(tmp_path: Path) -> None:
    settings = _settings(tmp_path, topic_prefix="t-1.")
    with pytest.raises(ConfigurationError, match="password file"):
        connector_config(settings, "jumin", RULES)
    path = password_path(settings)
    path.parent.mkdir(parents=True)
    path.write_text("s3cret-Pw_1\n", encoding="utf-8")
    config = connector_config(settings, "jumin", RULES)
    assert "s3cret" not in str(config)
    assert config["database.password"] == f"${{file:{path.with_suffix('.properties')}:password}}"
    assert path.with_suffix(".properties").read_text() == "password=s3cret-Pw_1\n"
    assert path.with_suffix(".properties").stat().st_mode & 0o077 == 0
    assert config["topic.prefix"] == "t-1.cdc.jumin"
    assert config["slot.name"] == slot_name(settings, "jumin") == "renkei_t_1_jumin"
    assert config["provide.transaction.metadata"] == "true"
    assert config["tombstones.on.delete"] == "false"
    assert config["table.include.list"] == "public.jumin_kiroku"
    with pytest.raises(ConfigurationError, match="connector name"):
        connector_config(settings, "Jumin DB", RULES)


@pytest.mark.kafka
@pytest.mark.timeout(600)
def test_status_shows_the_cdc_servers_when_they_run(live_stack: Settings) -> None:
    ensure_stack_up(live_stack, cdc=True, registry_timeout=240)
    result = CliRunner().invoke(stack, ["status"], obj=live_stack)
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[:-1]}
    assert rows["postgres"][1] == "up"
    assert rows["connect"][1:3] == ["up", "3.9.1"]
