"""``renkei ref``: what a user sees without a broker (load --dry-run, code, address, corpus
is covered by tests/reference)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from renkei.cli.ref_cmd import ref
from renkei.reference.release import CHANGE_COLUMNS

RENKEI = str(Path(sys.executable).parent / "renkei")


def test_code_prints_validity_successors_and_today() -> None:
    result = CliRunner().invoke(ref, ["code", "221350"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["name"] == "浜松市北区"
    assert out["valid_to"] == "2023-12-31"
    assert out["successors"] == ["221392", "221384"]


def test_address_on_a_date_prints_both_codes() -> None:
    result = CliRunner().invoke(
        ref, ["address", "静岡県浜松市中区元城町103-2", "--on", "2023-06-01"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["municipality_code"], out["current_municipality_code"]) == ("221317", "221384")


def test_a_bad_changes_file_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "changes.csv"
    bad.write_text(
        ",".join(CHANGE_COLUMNS) + "\n2027-04-01,221385,静岡県,a,221414,静岡県,b,merger,s\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [RENKEI, "ref", "load", "--dry-run", "--changes", str(bad)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1
    assert f"{bad}:2: old_code is not a 6-digit" in result.stderr
    assert "Traceback" not in result.stderr


def test_load_without_a_publishing_municipality_says_what_to_give() -> None:
    result = CliRunner().invoke(ref, ["load"], env={"RENKEI_MUNICIPALITY_CODE": ""})
    assert result.exit_code == 2
    assert "--municipality" in result.output
