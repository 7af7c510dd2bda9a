"""Alert rules (checked and unit-tested with promtool) and the Grafana dashboard, against
the metric names the worker really exports."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from dgx_pixels.observability.dashboards import DATASOURCE_UID, render

from .conftest import DCGM_METRICS, DEPLOY, metric_names

RULES = DEPLOY / "prometheus" / "rules" / "dgx-pixels.yml"
RULE_TESTS = DEPLOY / "prometheus" / "tests" / "dgx-pixels.test.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "dgx-pixels.json"
ALERTS = {
    "DgxPixelsWorkerDown", "DgxPixelsQueueStuck", "DgxPixelsJobErrorRate",
    "DgxPixelsGpuMemoryNearFull", "DgxPixelsLatencyAboveTarget",
}  # fmt: skip

promtool = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    promtool is None, reason="promtool is not installed (Debian: apt-get install prometheus)"
)


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    done = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True)  # type: ignore[list-item]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


@needs_promtool
def test_each_alert_fires_on_its_fault_and_stays_silent_when_idle() -> None:
    done = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        cwd=RULE_TESTS.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    idle = {case["alertname"] for case in tests[0]["alert_rule_test"] if not case["exp_alerts"]}
    firing = {
        case["alertname"] for t in tests for case in t["alert_rule_test"] if case["exp_alerts"]
    }
    assert idle == ALERTS  # every alert is tested silent on the idle worker
    assert firing == ALERTS  # and firing on its fault


def test_the_rules_read_only_metrics_the_worker_exports(exported_metrics: set[str]) -> None:
    rules = yaml.safe_load(RULES.read_text())["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        unknown = metric_names(rule["expr"]) - exported_metrics
        assert not unknown, f"{rule['alert']} reads {unknown}, which the worker does not export"


def test_the_dashboard_file_is_the_generators_output() -> None:
    assert DASHBOARD.read_text() == render(), (
        "regenerate: python -m dgx_pixels.observability.dashboards > "
        "deploy/grafana/dashboards/dgx-pixels.json"
    )


def test_every_dashboard_query_reads_exported_metrics(exported_metrics: set[str]) -> None:
    board = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in board["panels"]}
    assert {"Jobs by state", "Queue depth", "Seconds per batch (quantiles)", "Images per minute",
            "Denoising steps per second", "GPU memory", "GPU utilisation",
            "GPU temperature"} <= titles  # fmt: skip
    for panel in board["panels"]:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID
            unknown = metric_names(target["expr"]) - exported_metrics - DCGM_METRICS
            assert not unknown, f"{panel['title']} queries {unknown}, which nothing exports"
        own = set().union(*(metric_names(t["expr"]) for t in panel["targets"])) - DCGM_METRICS
        assert own, f"{panel['title']} shows no metric of the worker"


def test_grafana_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["uid"] == DATASOURCE_UID
    assert source["datasources"][0]["url"] == "http://127.0.0.1:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "dgx-pixels.yml").read_text())
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['providers'][0]['options']['path']}:ro" in mounts
