"""A real Prometheus, started here on loopback, scrapes a real worker (random:sdxl-tiny).

It loads our alert rules (none fires on the idle worker), and its query API
answers with our metrics and labels, and every dashboard query.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from dgx_pixels.jobs.client import Client
from dgx_pixels.jobs.spawn import SpawnedWorker, spawn_worker
from dgx_pixels.request import GenerationRequest

from .conftest import DEPLOY

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("prometheus") is None,
        reason="the prometheus server is not installed (Debian: apt-get install prometheus)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SpawnedWorker, int]]:
    data = tmp_path_factory.mktemp("worker-data")
    spawned = spawn_worker(
        model="random:sdxl-tiny",
        data_dir=data,
        bind="tcp://127.0.0.1:*",
        args=["--metrics-port", "0"],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        port = json.loads((data / "worker.json").read_text())["metrics_port"]
        assert isinstance(port, int)
        assert port > 0
        yield spawned, port
    finally:
        spawned.process.kill()
        spawned.process.wait()


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, worker: tuple[SpawnedWorker, int]
) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("prometheus")
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(DEPLOY / "prometheus" / "rules" / "*.yml")]
    (ours,) = [job for job in config["scrape_configs"] if job["job_name"] == "dgx-pixels"]
    ours["static_configs"] = [{"targets": [f"127.0.0.1:{worker[1]}"]}]
    config["scrape_configs"] = [ours]
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        ["prometheus", f"--config.file={folder / 'prometheus.yml'}",
         f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "prometheus.log").open("wb"),
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("Prometheus to be ready", lambda: _status(url + "/-/ready") == 200)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except OSError:
        return 0


def api(base: str, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{base}/api/v1/{path}{query}", timeout=5) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]


def test_prometheus_scrapes_the_worker_and_answers_with_our_labels(
    prometheus: str, worker: tuple[SpawnedWorker, int]
) -> None:
    spawned, _ = worker
    with Client(spawned.address, timeout=60) as client:
        wait_for("the model", lambda: client.ping().state == "ready", timeout=120)
        request = GenerationRequest(
            prompt="a blue gem", model="random:sdxl-tiny", size=(16, 16), steps=2, seed=1
        )
        client.run(request)

    def batches() -> list[Any]:
        data = api(prometheus, "query", query="dgx_pixels_generation_seconds_count > 0")
        return data["result"]  # type: ignore[no-any-return]

    (batch,) = wait_for("a scrape after the batch", batches)
    assert batch["metric"]["job"] == "dgx-pixels"
    jobs = api(prometheus, "query", query="dgx_pixels_jobs")["result"]
    assert {r["metric"]["state"] for r in jobs} == {
        "queued",
        "running",
        "done",
        "failed",
        "cancelled",
    }
    done = [r for r in jobs if r["metric"]["state"] == "done"]
    assert float(done[0]["value"][1]) == 1.0
    state = api(prometheus, "query", query="dgx_pixels_worker_state == 1")["result"]
    assert [r["metric"]["dgx_pixels_worker_state"] for r in state] == ["ready"]
    (up,) = api(prometheus, "query", query='up{job="dgx-pixels"}')["result"]
    assert up["value"][1] == "1"
    images = api(prometheus, "query", query="dgx_pixels_images_generated_total")["result"]
    assert float(images[0]["value"][1]) == 1.0


def test_the_rules_load_and_none_fires_on_an_idle_worker(prometheus: str) -> None:
    def evaluated() -> list[Any]:
        rules = [r for g in api(prometheus, "rules")["groups"] for r in g["rules"]]
        return rules if rules and all(r["health"] == "ok" for r in rules) else []

    rules = wait_for("the rules to be evaluated", evaluated)
    assert len(rules) == 5
    time.sleep(3)  # a few more evaluations
    assert api(prometheus, "alerts")["alerts"] == []


def test_every_dashboard_query_runs(prometheus: str) -> None:
    board = json.loads((DEPLOY / "grafana" / "dashboards" / "dgx-pixels.json").read_text())
    for panel in board["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "1m")
            api(prometheus, "query", query=expr)  # a bad query is an error, not success
