"""The Grafana dashboard of a worker, built here from the metric names the worker exports.

``python -m dgx_pixels.observability.dashboards`` prints the JSON that
``deploy/grafana/dashboards/dgx-pixels.json`` holds; a test checks that the
file is exactly this output and that every metric a panel queries is one the
worker (or NVIDIA's DCGM exporter, for the GPU panels' second series) exports.

>>> board = dashboard()
>>> board["uid"], len(board["panels"])
('dgx-pixels-worker', 12)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["DATASOURCE_UID", "Panel", "dashboard", "panels", "render"]

#: The provisioned Prometheus data source (deploy/grafana/provisioning/datasources).
DATASOURCE_UID = "prometheus"
_DATASOURCE = {"type": "prometheus", "uid": DATASOURCE_UID}
_RATE = "$__rate_interval"


@dataclass(frozen=True, slots=True)
class Panel:
    """One panel: a title, its queries as ``(PromQL, legend)``, the unit, the kind."""

    title: str
    queries: tuple[tuple[str, str], ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""


def _quantile(q: float) -> tuple[str, str]:
    expr = (
        f"histogram_quantile({q}, sum by (le) "
        f"(rate(dgx_pixels_generation_seconds_bucket[{_RATE}])))"
    )
    return expr, f"p{round(q * 100)}"


def panels() -> list[Panel]:
    """The dashboard's panels, top to bottom."""
    return [
        Panel(
            "Worker state",
            (("dgx_pixels_worker_state == 1", "{{dgx_pixels_worker_state}}"),),
            kind="stat",
            description="loading, ready, busy, draining or stopped",
        ),
        Panel("Jobs by state", (("dgx_pixels_jobs", "{{state}}"),)),
        Panel("Queue depth", (("dgx_pixels_queue_depth", "queued"),)),
        Panel(
            "Seconds per batch (quantiles)",
            (_quantile(0.5), _quantile(0.95), _quantile(0.99)),
            unit="s",
        ),
        Panel(
            "Images per minute",
            ((f"60 * rate(dgx_pixels_images_generated_total[{_RATE}])", "images/min"),),
        ),
        Panel(
            "Denoising steps per second",
            (
                (f"rate(dgx_pixels_denoising_steps_total[{_RATE}])", "average"),
                ("dgx_pixels_denoising_steps_per_second", "last batch"),
            ),
        ),
        Panel(
            "Warm models and loads",
            (
                ("dgx_pixels_models_warm", "warm"),
                (
                    "histogram_quantile(0.95, sum by (le) "
                    f"(rate(dgx_pixels_model_load_seconds_bucket[{_RATE}])))",
                    "load seconds, p95",
                ),
                (f"60 * rate(dgx_pixels_model_evictions_total[{_RATE}])", "unloaded/min"),
            ),
            description="models kept loaded within --memory-gib; least recently used out first",
        ),
        Panel(
            "Jobs ended per hour, by task",
            (
                (
                    f"sum by (task, state) (3600 * rate(dgx_pixels_jobs_ended_total[{_RATE}]))",
                    "{{task}} {{state}}",
                ),
            ),
            description="generate, animate, tiles, tileset and train jobs that ended",
        ),
        Panel(
            "Training loss",
            (("dgx_pixels_train_loss", "loss"),),
            description="the running train job's loss at its last step (dgx_pixels_train_step)",
        ),
        Panel(
            "GPU memory",
            (
                ("dgx_pixels_gpu_memory_used_bytes", "used, GPU {{gpu}}"),
                ("dgx_pixels_gpu_memory_total_bytes", "total, GPU {{gpu}}"),
                ("DCGM_FI_DEV_FB_USED * 1048576", "used (DCGM), GPU {{gpu}}"),
            ),
            unit="bytes",
            description="NVML through the worker; DCGM with the compose profile 'dcgm'",
        ),
        Panel(
            "GPU utilisation",
            (
                ("dgx_pixels_gpu_utilization_ratio", "GPU {{gpu}}"),
                ("DCGM_FI_DEV_GPU_UTIL / 100", "DCGM, GPU {{gpu}}"),
            ),
            unit="percentunit",
        ),
        Panel(
            "GPU temperature",
            (
                ("dgx_pixels_gpu_temperature_celsius", "GPU {{gpu}}"),
                ("DCGM_FI_DEV_GPU_TEMP", "DCGM, GPU {{gpu}}"),
            ),
            unit="celsius",
        ),
    ]


def _panel_json(panel: Panel, index: int) -> dict[str, Any]:
    row, col = divmod(index, 2)
    return {
        "id": index + 1,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": _DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": col * 12, "y": row * 8},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": _DATASOURCE,
                "expr": expr,
                "legendFormat": legend,
            }
            for i, (expr, legend) in enumerate(panel.queries)
        ],
    }


def dashboard() -> dict[str, Any]:
    """The dashboard as Grafana's JSON model (schema version 39)."""
    return {
        "uid": "dgx-pixels-worker",
        "title": "DGX-Pixels worker",
        "tags": ["dgx-pixels"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": [_panel_json(panel, i) for i, panel in enumerate(panels())],
    }


def render() -> str:
    """The dashboard JSON exactly as the deploy file holds it."""
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
