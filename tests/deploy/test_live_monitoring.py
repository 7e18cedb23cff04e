"""The monitoring set against a real worker: a real Prometheus (Debian's server binary) scrapes a
real `renkei worker standardize` fed with the catalogue's examples and bad records, loads the
alert rules, fires the DLQ alert on a bad record sent while it watches, pages nobody for the
healthy worker, and answers every dashboard query.

What it proves that the file checks cannot: the worker really exposes the names the dashboards
use (faust's prefix included), the queries return data where this stage has some, and the rules
evaluate without errors on real series.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from renkei.cli import cli
from renkei.contracts.stages import std_topic
from renkei.publish.producer import Publisher
from renkei.schemas.catalogue import load_catalogue
from renkei.settings import Settings
from tests.contract_lists import DEPARTMENT_TOPICS
from tests.deploy.conftest import DEPLOY, require_tool
from tests.deploy.promql import expand_grafana
from tests.deploy.test_dashboards import DASHBOARDS, load, queries
from tests.runtime.kafka_helpers import WorkerProcess, free_port, produce, read_until

pytestmark = pytest.mark.kafka
STAGE = "standardize"
# queries of the dashboards that must show data with one standardize worker running
EXPECTED_DATA = (
    'sum by (stage) (up{job="renkei-workers"})',
    "sum by (stage) (renkei_worker_ready)",
    "sum by (stage, topic) (rate(renkei_events_in_total[$__rate_interval]))",
    "sum by (stage, topic) (rate(renkei_events_out_total[$__rate_interval]))",
    "sum by (stage, topic) (renkei_consumer_lag)",
    "sum by (topic, reason) (increase(renkei_dlq_records_total",
    "sum by (kind) (increase(renkei_standardize_corrections_total[$__range]))",
    "histogram_quantile(0.99, sum by (stage, topic, le) (rate(renkei_event_freshness_seconds",
    "max by (instance) (faust_total_rebalances)",
)


def port_in_range(first: int = 7800, last: int = 7899) -> int:
    """A free port of this suite's range (its private servers), else any free port."""
    for port in range(first, last + 1):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


def api(base: str, path: str, **params: str) -> Any:
    url = f"{base}{path}?{urllib.parse.urlencode(params)}" if params else f"{base}{path}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")


async def publish_examples(settings: Settings, schemas_dir: Path, prefix: str) -> int:
    """Every department example of the isolated catalogue; returns how many."""
    isolated = load_catalogue(schemas_dir)
    sent = 0
    async with Publisher(settings, isolated) as publisher:
        for topic in DEPARTMENT_TOPICS:
            for example in isolated.get(prefix + topic).examples.values():
                await publisher.publish(prefix + topic, example)
                sent += 1
    return sent


def start_prometheus(tmp_path: Path, worker_port: int) -> tuple[subprocess.Popen[bytes], str]:
    """Prometheus scraping the worker every second, with the project's rules."""
    tool = require_tool("prometheus", "/usr/bin/prometheus")
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(DEPLOY / "prometheus" / "rules" / "renkei.yml")]
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "renkei-workers")
    job["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"], "labels": {"stage": STAGE}}]
    config["scrape_configs"] = [job]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = port_in_range()
    process = subprocess.Popen(
        [
            tool,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdin=subprocess.DEVNULL,
        stdout=(tmp_path / "prometheus.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


@pytest.mark.timeout(300)
def test_prometheus_answers_every_dashboard_query_from_a_real_worker(
    live_stack: Settings,
    isolated_schemas_dir: tuple[Path, str],
    tmp_path: Path,
) -> None:
    settings = live_stack
    schemas_dir, bare_prefix = isolated_schemas_dir
    prefix = f"{bare_prefix}."
    applied = CliRunner().invoke(
        cli, ["schemas", "apply"], env={"RENKEI_SCHEMAS_DIR": str(schemas_dir)}
    )
    assert applied.exit_code == 0, applied.output
    sent = asyncio.run(publish_examples(settings, schemas_dir, prefix))
    bad = [(b"garbage", b"\x07not-avro", [("ce_id", b"bad")], None)]
    asyncio.run(produce(settings, prefix + "health.checkup.results", bad))

    worker_port = port_in_range(7850)
    env = {"RENKEI_TOPIC_PREFIX": prefix, "RENKEI_WORKER_WEB_BIND": "127.0.0.1"}
    worker = WorkerProcess(STAGE, tmp_path / "worker.log", env, web_port=worker_port)
    prometheus: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(
            read_until(settings, f"{prefix}dlq.health.checkup.results", lambda r: len(r) >= 1, 90)
        )
        for topic in DEPARTMENT_TOPICS:
            asyncio.run(read_until(settings, prefix + std_topic(topic), lambda r: len(r) >= 1, 90))
        prometheus, base = start_prometheus(tmp_path, worker_port)

        def scraped() -> bool:
            result = api(base, "/api/v1/query", query='up{job="renkei-workers"} == 1')["result"]
            lag = api(base, "/api/v1/query", query="renkei_consumer_lag")["result"]
            return bool(result) and bool(lag)

        wait_until(scraped, 90, "the worker scraped with its offsets")
        # a bad record while Prometheus watches: the DLQ counter moves, the info alert fires
        asyncio.run(produce(settings, prefix + "health.checkup.results", bad))

        def dlq_alert() -> list[dict[str, Any]]:
            alerts = api(base, "/api/v1/alerts")["alerts"]
            return [
                a
                for a in alerts
                if a["labels"]["alertname"] == "RenkeiDlqRecords" and a["state"] == "firing"
            ]

        (fired,) = wait_until(dlq_alert, 90, "RenkeiDlqRecords firing")
        assert fired["labels"]["stage"] == STAGE
        assert fired["labels"]["topic"] == "health.checkup.results"  # contract name, no prefix
        assert fired["labels"]["reason"] == "deserialization"
        time.sleep(3)  # a few more scrapes: every rate() has two samples
        answered: dict[str, list[Any]] = {}
        for path in DASHBOARDS:
            for where, expr in queries(load(path)):
                data = api(base, "/api/v1/query", query=expand_grafana(expr))
                answered[expr] = data["result"]
                assert data["resultType"] in ("vector", "scalar"), (path.name, where)
        for fragment in EXPECTED_DATA:
            matching = [e for e in answered if fragment in e]
            assert matching, f"no dashboard query contains {fragment!r}"
            assert any(answered[e] for e in matching), f"no data for {fragment!r}"
        rules = api(base, "/api/v1/rules")["groups"]
        assert rules, "rules not loaded"
        unhealthy = [
            (g["name"], r["name"], r.get("lastError"))
            for g in rules
            for r in g["rules"]
            if r.get("health") != "ok"
        ]
        assert unhealthy == []
        alerts = api(base, "/api/v1/alerts")["alerts"]
        paging = [
            a["labels"]
            for a in alerts
            if a["labels"].get("severity") == "critical" and a["labels"].get("stage") == STAGE
        ]
        assert paging == [], "the healthy worker pages nobody"
        # the stages not running here are missing, and the rules notice it (pending: for 5m)
        absent = {
            a["labels"]["stage"] for a in alerts if a["labels"]["alertname"] == "RenkeiWorkerAbsent"
        }
        assert absent == {"resident", "region", "evacuation", "views"}
        assert sent > 0
    except AssertionError as exc:
        prometheus_log = (tmp_path / "prometheus.log").read_text(errors="replace")[-3000:]
        raise AssertionError(
            f"{exc}\n--- worker log ---\n{worker.output()[-4000:]}\n"
            f"--- prometheus log ---\n{prometheus_log}"
        ) from exc
    finally:
        if prometheus is not None:
            prometheus.terminate()
            prometheus.wait(timeout=30)
        worker.stop()
    log = (tmp_path / "prometheus.log").read_text(errors="replace")
    assert "level=error" not in log, log[-2000:]
