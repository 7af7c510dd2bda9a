"""Prometheus metrics of a worker, served on a local port.

All metrics live in one :class:`~prometheus_client.CollectorRegistry` per
worker (never the global one), so tests and several workers do not collide::

    dgx_pixels_worker_state{dgx_pixels_worker_state="ready"}   1
    dgx_pixels_jobs{state="queued"}                            jobs by state
    dgx_pixels_queue_depth                                     queued jobs
    dgx_pixels_generation_seconds                              latency per batch (histogram)
    dgx_pixels_images_generated_total                          images written
    dgx_pixels_images_per_second                               of the last batch
    dgx_pixels_denoising_steps_total                           steps run
    dgx_pixels_denoising_steps_per_second                      of the last batch
    dgx_pixels_models_warm                                     models loaded and kept warm
    dgx_pixels_model_load_seconds                              seconds per model load (histogram)
    dgx_pixels_model_evictions_total                           models unloaded to make room
    dgx_pixels_jobs_ended_total{task="animate",state="done"}   jobs that ended, by task
    dgx_pixels_job_seconds{task="tiles"}                       seconds per done job (histogram)
    dgx_pixels_train_step                                      the running training's step
    dgx_pixels_train_loss                                      its loss at that step
    dgx_pixels_train_learning_rate                             its learning rate
    dgx_pixels_train_steps_per_second                          its speed
    dgx_pixels_gpu_memory_used_bytes{gpu="0"}                  from NVML, only when present
    dgx_pixels_gpu_memory_total_bytes{gpu="0"}
    dgx_pixels_gpu_utilization_ratio{gpu="0"}
    dgx_pixels_gpu_temperature_celsius{gpu="0"}

The GPU metrics come from NVML (``pynvml``) read at scrape time; when pynvml
or a driver is missing they are absent, never made up.

>>> m = WorkerMetrics()
>>> m.observe_batch(images=4, steps=20, seconds=2.0)
>>> m.registry.get_sample_value("dgx_pixels_images_per_second")
2.0
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["LATENCY_BUCKETS", "LOAD_BUCKETS", "NvmlCollector", "WorkerMetrics", "nvml_collector"]

log = logging.getLogger(__name__)

#: Seconds per batch: from tiny CPU models (under a second) to big GPU batches.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)

#: Seconds per model load: a tiny random model (well under a second) to an SDXL
#: checkpoint read from a slow disk.
LOAD_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)

WORKER_STATES = ["loading", "ready", "busy", "draining", "stopped"]
JOB_STATES = ["queued", "running", "done", "failed", "cancelled"]
#: ``protocol.TASKS`` (not imported: metrics stay below the job system).
TASKS = ["generate", "animate", "tiles", "tileset", "train"]


class WorkerMetrics:
    """The worker's metrics; every update method is thread-safe."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.state = Enum(
            "dgx_pixels_worker_state", "The worker's state", states=WORKER_STATES, registry=r
        )
        self.jobs = Gauge("dgx_pixels_jobs", "Jobs in the store by state", ["state"], registry=r)
        self.queue_depth = Gauge("dgx_pixels_queue_depth", "Jobs waiting to run", registry=r)
        self.latency = Histogram(
            "dgx_pixels_generation_seconds",
            "Seconds to generate one batch",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.images = Counter(
            "dgx_pixels_images_generated", "Images generated and saved", registry=r
        )
        self.images_per_second = Gauge(
            "dgx_pixels_images_per_second", "Images per second in the last batch", registry=r
        )
        self.steps = Counter("dgx_pixels_denoising_steps", "Denoising steps run", registry=r)
        self.step_rate = Gauge(
            "dgx_pixels_denoising_steps_per_second",
            "Denoising steps per second in the last batch",
            registry=r,
        )
        self.models_warm = Gauge(
            "dgx_pixels_models_warm", "Models loaded and kept warm", registry=r
        )
        self.load_seconds = Histogram(
            "dgx_pixels_model_load_seconds",
            "Seconds to load (and warm up) one model",
            buckets=LOAD_BUCKETS,
            registry=r,
        )
        self.evictions = Counter(
            "dgx_pixels_model_evictions",
            "Models unloaded to make room for another (least recently used first)",
            registry=r,
        )
        self.jobs_ended = Counter(
            "dgx_pixels_jobs_ended", "Jobs that ended, by task and state", ["task", "state"],
            registry=r,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "dgx_pixels_job_seconds",
            "Seconds a done job ran (a generate job: its batch), by task",
            ["task"],
            buckets=(*LATENCY_BUCKETS, 1800.0, 3600.0, 14400.0),
            registry=r,
        )
        self.train_step = Gauge("dgx_pixels_train_step", "The training's last step", registry=r)
        self.train_loss = Gauge(
            "dgx_pixels_train_loss", "The training's loss at its last step", registry=r
        )
        self.train_lr = Gauge(
            "dgx_pixels_train_learning_rate", "The training's learning rate", registry=r
        )
        self.train_rate = Gauge(
            "dgx_pixels_train_steps_per_second", "The training's steps per second", registry=r
        )
        for s in JOB_STATES:
            self.jobs.labels(state=s).set(0)
        for task in TASKS:
            self.job_seconds.labels(task=task)
            for s in ("done", "failed", "cancelled"):
                self.jobs_ended.labels(task=task, state=s)
        gpu = nvml_collector()
        if gpu is not None:
            r.register(gpu)

    def set_state(self, state: str) -> None:
        """Record the worker state (a :class:`~dgx_pixels.jobs.protocol.WorkerState` value)."""
        self.state.state(state)

    def set_job_counts(self, counts: Mapping[str, int]) -> None:
        """Record how many jobs are in each state (keys: job state values)."""
        for state, n in counts.items():
            self.jobs.labels(state=str(state)).set(n)
        self.queue_depth.set(counts.get("queued", 0))

    def observe_batch(self, *, images: int, steps: int, seconds: float) -> None:
        """Record one finished batch: images saved, steps run, wall seconds."""
        self.latency.observe(seconds)
        self.images.inc(images)
        self.steps.inc(steps)
        if seconds > 0:
            self.images_per_second.set(images / seconds)
            self.step_rate.set(steps / seconds)

    def observe_load(self, *, seconds: float, warm: int) -> None:
        """Record one model load that took ``seconds``, leaving ``warm`` models loaded."""
        self.load_seconds.observe(seconds)
        self.models_warm.set(warm)

    def observe_eviction(self, *, warm: int) -> None:
        """Record one model unloaded to make room, leaving ``warm`` models loaded."""
        self.evictions.inc()
        self.models_warm.set(warm)

    def count_job(self, *, task: str, state: str) -> None:
        """Count a job that ended (``done``, ``failed`` or ``cancelled``)."""
        self.jobs_ended.labels(task=task, state=state).inc()

    def observe_job(self, *, task: str, seconds: float) -> None:
        """Record how long a done job ran."""
        self.job_seconds.labels(task=task).observe(seconds)

    def observe_train_step(self, *, step: int, loss: float, lr: float, it_s: float) -> None:
        """Record a training step of the running train job."""
        self.train_step.set(step)
        self.train_loss.set(loss)
        self.train_lr.set(lr)
        self.train_rate.set(it_s)

    def serve(self, port: int, *, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` over HTTP on ``host:port`` (0 picks a free port); return the port."""
        from prometheus_client import start_http_server

        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(server.server_port)


class NvmlCollector(Collector):
    """GPU memory, utilisation and temperature per device, read from NVML at each scrape."""

    def __init__(self, nvml: Any) -> None:
        self._nvml = nvml

    def collect(self) -> Iterator[GaugeMetricFamily]:
        nv = self._nvml
        used = GaugeMetricFamily(
            "dgx_pixels_gpu_memory_used_bytes", "GPU memory in use (NVML)", labels=["gpu"]
        )
        total = GaugeMetricFamily(
            "dgx_pixels_gpu_memory_total_bytes", "GPU memory in all (NVML)", labels=["gpu"]
        )
        util = GaugeMetricFamily(
            "dgx_pixels_gpu_utilization_ratio", "GPU busy fraction (NVML)", labels=["gpu"]
        )
        temp = GaugeMetricFamily(
            "dgx_pixels_gpu_temperature_celsius", "GPU core temperature (NVML)", labels=["gpu"]
        )
        try:
            for i in range(nv.nvmlDeviceGetCount()):
                handle = nv.nvmlDeviceGetHandleByIndex(i)
                try:
                    mem = nv.nvmlDeviceGetMemoryInfo(handle)
                    used.add_metric([str(i)], float(mem.used))
                    total.add_metric([str(i)], float(mem.total))
                except nv.NVMLError:  # unified-memory GPUs (GB10) may not report memory
                    pass
                try:
                    rates = nv.nvmlDeviceGetUtilizationRates(handle)
                    util.add_metric([str(i)], rates.gpu / 100.0)
                except nv.NVMLError:
                    pass
                try:
                    celsius = nv.nvmlDeviceGetTemperature(handle, nv.NVML_TEMPERATURE_GPU)
                    temp.add_metric([str(i)], float(celsius))
                except (nv.NVMLError, AttributeError):  # no sensor, or a binding without it
                    pass
        except nv.NVMLError as exc:
            log.warning("NVML read failed: %s", exc)
            return
        yield from (m for m in (used, total, util, temp) if m.samples)


def nvml_collector() -> NvmlCollector | None:
    """An :class:`NvmlCollector` when pynvml and an NVIDIA driver are present, else ``None``."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # pynvml.NVMLError and its many subclasses: no driver, no GPU
        return None
    return NvmlCollector(pynvml)
