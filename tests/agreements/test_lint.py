"""``renkei agreements check``: each lint class on fixture files, the real agreements clean."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from renkei.agreements.lint import Problem, lint_agreements, schema_paths
from renkei.agreements.model import Agreement, load_agreement, load_agreements, parse_agreement
from renkei.cli import cli
from renkei.schemas import load_catalogue
from renkei.settings import Settings

SETTINGS = Settings()
CATALOGUE = load_catalogue(SETTINGS.schemas_dir)
BAD = Path(__file__).parent / "fixtures" / "bad"


def _lint(agreement: Agreement) -> list[Problem]:
    return lint_agreements([agreement], CATALOGUE)


@pytest.mark.parametrize(
    ("stem", "kind", "words"),
    [
        ("unknown-topic", "unknown-topic", "unified.nonexistent"),
        ("unknown-field", "unknown-field", "persons.name_kana"),
        ("consumer-star", "over-broad", "not '*'"),
        ("consumer-raw", "over-broad", "not of a raw topic"),
        ("provider-other", "over-broad", "owned by 市民課"),
        ("zone-down", "zone", "without a declared egress view"),
        ("per-event-aggregate", "disclosure", "grant the audited snapshots"),
    ],
)
def test_each_lint_class_is_caught(stem: str, kind: str, words: str) -> None:
    problems = _lint(load_agreement(BAD / f"{stem}.yaml"))
    assert [(p.kind, words in p.message) for p in problems] == [(kind, True)]


def test_the_repository_agreements_are_clean() -> None:
    assert lint_agreements(load_agreements(SETTINGS.agreements_dir), CATALOGUE) == []


def test_egress_lets_a_field_step_one_zone_down_only() -> None:
    text = (BAD / "zone-down.yaml").read_text(encoding="utf-8")
    assert _lint(parse_agreement(text + "egress: true\n")) == []
    to_internet = text.replace("zone: lgwan", "zone: internet") + "egress: true\n"
    [problem] = _lint(parse_agreement(to_internet))
    assert problem.kind == "zone" and "one zone only" in problem.message


def test_an_egress_that_crosses_nothing_is_reported() -> None:
    text = (BAD / "zone-down.yaml").read_text(encoding="utf-8")
    same_zone = text.replace("zone: lgwan", "zone: individual_number") + "egress: true\n"
    [problem] = _lint(parse_agreement(same_zone))
    assert problem.kind == "zone" and "no field leaves its zone" in problem.message


def test_a_provider_may_not_write_down_a_zone() -> None:
    text = (SETTINGS.agreements_dir / "provider-economy.yaml").read_text(encoding="utf-8")
    stricter_principal = text.replace("zone: internet", "zone: lgwan")
    [problem] = _lint(parse_agreement(stricter_principal))
    assert problem.kind == "zone" and "from zone lgwan to internet" in problem.message


def test_record_paths_cover_their_leaves() -> None:
    paths = schema_paths(CATALOGUE.get("unified.resident").schema)
    assert {"address", "address.postal_code", "checkup.risk_flags", "resident_key"} <= paths
    assert "address.nope" not in paths


def test_check_command_prints_one_line_per_problem_and_fails() -> None:
    result = CliRunner().invoke(cli, ["agreements", "check", "--dir", str(BAD)])
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 7
    assert {line.split(": ")[1] for line in lines} == {
        "unknown-topic",
        "unknown-field",
        "over-broad",
        "zone",
        "disclosure",
    }


def test_check_command_passes_on_the_repository_agreements() -> None:
    result = CliRunner().invoke(cli, ["agreements", "check"])
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stdout


def test_check_command_reports_a_malformed_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("id: broken\nrole: [\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["agreements", "check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.startswith("broken: invalid: ")


def test_a_consumer_listing_every_field_asks_for_the_raw_topic() -> None:
    text = (BAD / "zone-down.yaml").read_text(encoding="utf-8")
    spec = CATALOGUE.get("unified.region")
    every = ", ".join(field["name"] for field in spec.schema["fields"])
    text = text.replace("unified.resident", "unified.region")
    text = text.replace("fields: [age, region_code]", f"fields: [{every}]")
    text = text.replace("zone: lgwan", "zone: lgwan\negress: false")
    [problem] = _lint(parse_agreement(text))
    assert problem.kind == "over-broad" and "which is the raw topic" in problem.message


def test_per_event_aggregates_stay_with_the_platforms_own_zone() -> None:
    text = (BAD / "per-event-aggregate.yaml").read_text(encoding="utf-8")
    lgwan = text.replace("zone: internet", "zone: lgwan").replace("egress: true", "egress: false")
    assert _lint(parse_agreement(lgwan)) == []
    snapshots = text.replace("topic: unified.region", "topic: derived.region-snapshot").replace(
        "[region_code, population, metabolic_syndrome_rate]",
        "[municipality_code, regions.region_code, regions.population]",
    )
    assert _lint(parse_agreement(snapshots)) == []


def test_per_day_move_figures_may_not_leave_the_platforms_own_staff() -> None:
    text = (BAD / "per-event-aggregate.yaml").read_text(encoding="utf-8")
    text = text.replace("unified.region", "derived.region.daily-moves")
    text = text.replace("population, metabolic_syndrome_rate", "move_ins")
    [problem] = _lint(parse_agreement(text))
    assert problem.kind == "disclosure" and "may not be granted" in problem.message
