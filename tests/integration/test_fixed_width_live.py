"""Fixed-width (固定長) exports on the real broker and registry: the snapshot diff
(``--diff-against``) of two whole-registry exports end to end, read back with an independent
Confluent client, and the bad record reported back to the department by its line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from renkei.cli import cli
from renkei.settings import Settings
from tests.input_formats.fixed_records import ZENKEN_FIXED, record, resident
from tests.integration.independent_client import read_all

pytestmark = pytest.mark.kafka
REG = "registry.resident.events"
STAYS, MOVES, LEAVES, ARRIVES, BROKEN = (
    "000000066600001",
    "000000066600002",
    "000000066600003",
    "000000066600004",
    "000000066600005",
)


def _renkei(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def _export(*records: dict[str, str] | bytes) -> bytes:
    lines = [r if isinstance(r, bytes) else record(ZENKEN_FIXED, r) for r in records]
    return b"".join(line + b"\r\n" for line in lines)


@pytest.mark.timeout(180)
def test_two_fixed_width_exports_become_change_events_on_the_broker(
    live_stack: Settings, isolated_schemas_dir: tuple[Path, str], tmp_path: Path
) -> None:
    schemas_dir, bare = isolated_schemas_dir
    prefix = f"{bare}."
    env = {"RENKEI_SCHEMAS_DIR": str(schemas_dir), "RENKEI_HOME": str(tmp_path / "home")}
    applied = _renkei(env, "schemas", "apply")
    assert applied.exit_code == 0, applied.output
    mapping = yaml.safe_load(ZENKEN_FIXED.read_text(encoding="utf-8")) | {"topic": prefix + REG}
    mapping_file = tmp_path / "zenken.yaml"
    mapping_file.write_text(yaml.safe_dump(mapping, allow_unicode=True), encoding="utf-8")
    old = tmp_path / "zenken_20260930.dat"
    new = tmp_path / "zenken_20261001.dat"
    old.write_bytes(_export(resident(STAYS), resident(MOVES), resident(LEAVES)))
    broken = bytearray(record(ZENKEN_FIXED, resident(BROKEN)))
    # the family name's last two bytes: a space and the lead byte of a 全角 character whose
    # second byte would be the next column's (the layout and the export disagree)
    broken[33:35] = b" \x82"
    new.write_bytes(
        _export(
            resident(STAYS),
            resident(MOVES, 住所="北海道札幌市中央区旭ケ丘１丁目１番"),
            resident(ARRIVES, 名="花子", 続柄="妻", 性別="2"),
            bytes(broken),
        )
    )
    cli_env = {**env, "RENKEI_TOPIC_PREFIX": prefix}
    published = _renkei(
        cli_env, "publish", "--format", "fixed", "--mapping", str(mapping_file),
        "--diff-against", str(old), "--as-of", "2026-10-01", prefix + REG, str(new),
    )  # fmt: skip
    assert published.exit_code == 1, published.output  # one record was bad
    assert "line 4: (column 氏, bytes 16-35): not valid CP932 at byte 35" in published.output
    assert "3 published, 1 invalid" in published.output

    events = read_all(live_stack, prefix + REG, expected=3, timeout=60)
    kinds = {e["key"]: e["value"]["event_type"] for e in events}
    assert kinds == {MOVES: "moved_within", ARRIVES: "moved_in", LEAVES: "moved_out"}
    assert all(str(e["value"]["effective_date"]) == "2026-10-01" for e in events)
    moved = next(e for e in events if e["key"] == MOVES)
    assert moved["headers"]["renkei.source.position"] == "zenken_20261001.dat line 2"

    out = tmp_path / "rejects.csv"
    report = _renkei(cli_env, "dlq", "report", "--department", "dept-registry",
                     "--encoding", "utf-8-sig", "-o", str(out))  # fmt: skip
    assert report.exit_code == 0, report.output
    assert "1 rejected records, 1 problems" in report.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2, rows  # the header and the one bad record
    assert rows[1][1:4] == ["zenken_20261001.dat line 4", "", "(column 氏, bytes 16-35)"]
    assert "全角" in rows[1][4]
