"""Per-purpose pseudonym secrets: generated private, stable, different per purpose, rotation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from renkei.errors import ConfigurationError
from renkei.settings import Settings
from renkei.stages.views.pseudonym import load_or_create_key, read_key, rotate_key, secrets_folder

RESIDENT = "000000000000123"


def test_a_missing_key_is_generated_private_and_then_reused(tmp_path: Path) -> None:
    folder = tmp_path / "pseudonym"
    key = load_or_create_key(folder, "health-promotion")
    path = folder / "health-promotion.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    again = load_or_create_key(folder, "health-promotion")
    assert again.pseudonym(RESIDENT) == key.pseudonym(RESIDENT)
    assert len(key.pseudonym(RESIDENT)) == 64 and RESIDENT not in key.pseudonym(RESIDENT)
    assert key.secret.hex() not in repr(key)


def test_purposes_get_unrelated_pseudonyms(tmp_path: Path) -> None:
    one = load_or_create_key(tmp_path, "health-promotion")
    two = load_or_create_key(tmp_path, "resident-services")
    assert one.pseudonym(RESIDENT) != two.pseudonym(RESIDENT)
    assert one.key_id != two.key_id


def test_a_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    load_or_create_key(tmp_path, "p")
    (tmp_path / "p.key").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_key(tmp_path, "p")


def test_rotation_changes_pseudonyms_and_keeps_the_old_key_retired(tmp_path: Path) -> None:
    old = load_or_create_key(tmp_path, "p")
    new, retired = rotate_key(tmp_path, "p")
    assert new.key_id != old.key_id
    assert new.pseudonym(RESIDENT) != old.pseudonym(RESIDENT)
    assert retired == tmp_path / "retired" / f"p.{old.key_id}.key"
    assert retired is not None and read_key(retired, "p").secret == old.secret


def test_the_folder_setting_and_its_default(tmp_path: Path) -> None:
    assert secrets_folder(Settings(home=tmp_path)) == tmp_path / "secrets" / "pseudonym"
    chosen = tmp_path / "vault"
    assert secrets_folder(Settings(home=tmp_path, pseudonym_secrets_dir=chosen)) == chosen


def test_views_cli_lists_views_and_rotates_a_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from renkei.cli import cli

    env = {"RENKEI_HOME": str(tmp_path)}
    old = load_or_create_key(tmp_path / "secrets" / "pseudonym", "health-promotion")
    listed = CliRunner().invoke(cli, ["views", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "view.health-promotion.resident" in listed.output and old.key_id in listed.output
    assert "tombstones readable 365 days" in listed.output  # health-promotion: 365 days
    rotated = CliRunner().invoke(cli, ["views", "rotate-key", "health-promotion", "--yes"], env=env)
    assert rotated.exit_code == 0, rotated.output
    new = load_or_create_key(tmp_path / "secrets" / "pseudonym", "health-promotion")
    assert new.key_id != old.key_id and new.key_id in rotated.output
