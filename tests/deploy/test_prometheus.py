"""Prometheus config and alert rules, checked and unit-tested by promtool itself."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.deploy.conftest import DEPLOY, require_tool

PROMETHEUS = DEPLOY / "prometheus"
RULES = PROMETHEUS / "rules" / "renkei.yml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
ALERTS = {
    "RenkeiWorkerDown",
    "RenkeiWorkerAbsent",
    "RenkeiWorkerNotReady",
    "RenkeiConsumerLagGrowing",
    "RenkeiCommitsStalled",
    "RenkeiDlqRateHigh",
    "RenkeiDlqRecords",
    "RenkeiDlqBreakerOpen",
    "RenkeiFreshnessSloBreached",
    "RenkeiAlertToListSlow",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = require_tool("promtool", "/usr/bin/promtool")
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, timeout=60, cwd=PROMETHEUS, check=False
    )


def test_config_is_valid_and_loads_the_rules() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(path) -> None:  # type: ignore[no-untyped-def]
    result = promtool("test", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def _alert_tests() -> dict[str, set[str]]:
    """alertname → kinds of cases the unit tests have for it ("fires", "silent")."""
    found: dict[str, set[str]] = {}
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                kind = "fires" if check.get("exp_alerts") else "silent"
                found.setdefault(check["alertname"], set()).add(kind)
    return found


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    declared = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    assert declared == ALERTS
    tested = _alert_tests()
    for alert in sorted(declared):
        assert tested.get(alert) == {"fires", "silent"}, f"{alert}: unit tests {tested.get(alert)}"


def test_a_wrong_expectation_fails(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The unit tests can fail: the same series with a wrong expected stage is reported."""
    case = yaml.safe_load((PROMETHEUS / "tests" / "workers.yml").read_text(encoding="utf-8"))
    case["rule_files"] = [str(RULES)]
    case["tests"] = case["tests"][:1]
    labels = case["tests"][0]["alert_rule_test"][1]["exp_alerts"][0]["exp_labels"]
    labels["stage"] = "resident"
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(case, allow_unicode=True), encoding="utf-8")
    result = promtool("test", "rules", str(broken))
    assert result.returncode != 0
    assert "RenkeiWorkerDown" in result.stdout + result.stderr
