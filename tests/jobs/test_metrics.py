"""Prometheus metrics: served by a real worker over HTTP on a free local port."""

from __future__ import annotations

import importlib.util
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from dgx_pixels.observability.metrics import WorkerMetrics, nvml_collector

from .helpers import wait_until
from .test_worker import req


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return samples


def test_worker_serves_its_metrics(start_worker) -> None:
    w = start_worker(metrics_port=0)
    assert w.worker.metrics_port
    with w.client() as c:
        for prompt in ("one", "two"):
            job = c.submit(req(prompt, steps=4, count=3))
            list(c.watch(job.id))
        w.backend.hold.clear()
        c.submit(req("held"))
        wait_until(w.backend.running.is_set, "the held job to run")
        c.submit(req("waiting", size=(8, 8)))

        def settled() -> bool:
            m = scrape(w.worker.metrics_port)
            return (
                m["dgx_pixels_queue_depth"] == 1
                and m["dgx_pixels_jobs{state=running}"] == 1
                and m["dgx_pixels_worker_state{dgx_pixels_worker_state=busy}"] == 1
            )

        wait_until(settled, "the counts of one running and one queued job")
    m = scrape(w.worker.metrics_port)
    assert m["dgx_pixels_jobs{state=done}"] == 2
    assert m["dgx_pixels_jobs{state=running}"] == 1
    assert m["dgx_pixels_worker_state{dgx_pixels_worker_state=busy}"] == 1
    assert m["dgx_pixels_images_generated_total"] == 6
    assert m["dgx_pixels_denoising_steps_total"] == 8
    assert m["dgx_pixels_generation_seconds_count"] == 2
    assert m["dgx_pixels_jobs_ended_total{state=done,task=generate}"] == 2
    assert m["dgx_pixels_job_seconds_count{task=generate}"] == 2
    assert m["dgx_pixels_images_per_second"] > 0
    assert m["dgx_pixels_denoising_steps_per_second"] > 0
    w.backend.hold.set()


def test_gpu_metrics_only_with_nvml() -> None:
    names = {f.name for f in WorkerMetrics().registry.collect()}
    has_gpu = "dgx_pixels_gpu_memory_used_bytes" in names
    if importlib.util.find_spec("pynvml") is None:
        assert nvml_collector() is None
        assert not has_gpu  # absent, never made up
    else:
        assert has_gpu == (nvml_collector() is not None)


class _FakeNvml:
    """pynvml's interface for two GPUs; the second, like a GB10, reports no memory."""

    class NVMLError(Exception):
        pass

    class _Mem:
        used, total = 3 * 2**30, 80 * 2**30

    class _Util:
        gpu = 42

    def nvmlDeviceGetCount(self) -> int:  # noqa: N802 - pynvml's names
        return 2

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:  # noqa: N802
        return i

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> object:  # noqa: N802
        if handle == 1:
            raise self.NVMLError("Not Supported")
        return self._Mem()

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> object:  # noqa: N802
        return self._Util()


def test_nvml_readings_become_gpu_metrics() -> None:
    from prometheus_client import CollectorRegistry

    from dgx_pixels.observability.metrics import NvmlCollector

    registry = CollectorRegistry()
    registry.register(NvmlCollector(_FakeNvml()))
    get = registry.get_sample_value
    assert get("dgx_pixels_gpu_memory_used_bytes", {"gpu": "0"}) == 3 * 2**30
    assert get("dgx_pixels_gpu_memory_total_bytes", {"gpu": "0"}) == 80 * 2**30
    assert get("dgx_pixels_gpu_memory_used_bytes", {"gpu": "1"}) is None  # not reported: absent
    assert get("dgx_pixels_gpu_utilization_ratio", {"gpu": "0"}) == 0.42
    assert get("dgx_pixels_gpu_utilization_ratio", {"gpu": "1"}) == 0.42


def test_jobs_by_task_and_the_training_gauges() -> None:
    m = WorkerMetrics()
    r = m.registry
    ended = "dgx_pixels_jobs_ended_total"
    for task in ("generate", "animate", "tiles", "tileset", "train"):  # present from the start
        assert r.get_sample_value(ended, {"task": task, "state": "done"}) == 0
    m.count_job(task="animate", state="done")
    m.count_job(task="animate", state="cancelled")
    m.observe_job(task="animate", seconds=3.0)
    m.observe_train_step(step=7, loss=0.25, lr=1e-4, it_s=2.5)
    assert r.get_sample_value(ended, {"task": "animate", "state": "done"}) == 1
    assert r.get_sample_value(ended, {"task": "animate", "state": "cancelled"}) == 1
    assert r.get_sample_value(ended, {"task": "train", "state": "done"}) == 0
    assert r.get_sample_value("dgx_pixels_job_seconds_sum", {"task": "animate"}) == 3.0
    assert r.get_sample_value("dgx_pixels_job_seconds_count", {"task": "tiles"}) == 0
    assert r.get_sample_value("dgx_pixels_train_step") == 7
    assert r.get_sample_value("dgx_pixels_train_loss") == 0.25
    assert r.get_sample_value("dgx_pixels_train_learning_rate") == 1e-4
    assert r.get_sample_value("dgx_pixels_train_steps_per_second") == 2.5


def test_the_documented_metric_names_are_exported() -> None:
    """docs/jobs.md names each job and training metric the worker exports."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "jobs.md").read_text()
    section = doc.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(dgx_pixels_[a-z_]+)", section))
    assert named >= {"dgx_pixels_jobs_ended_total", "dgx_pixels_train_loss"}
    exported = {s.name for f in WorkerMetrics().registry.collect() for s in f.samples}
    exported |= {f.name for f in WorkerMetrics().registry.collect()}
    assert named <= exported, named - exported
