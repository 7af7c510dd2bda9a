"""``dgx-pixels ping``: does a worker answer? For healthchecks and scripts.

Exit 0 and one line (state, model, queue) when the worker answers within
``--timeout``; otherwise the job system's error line and exit code 7. A
container's HEALTHCHECK runs it against the worker in the same container.
"""

from __future__ import annotations

import json

import click

from dgx_pixels.errors import InputError

__all__ = ["ping"]


@click.command("ping")
@click.option("--worker", "worker_address", metavar="ADDR", help="Worker address (default: local).")
@click.option("--timeout", default=3.0, show_default=True, metavar="SECONDS")
@click.option("--ready", is_flag=True, help="Fail (exit 7) unless the model is loaded.")
@click.option("--json", "as_json", is_flag=True, help="Print the pong as JSON.")
def ping(worker_address: str | None, timeout: float, ready: bool, as_json: bool) -> None:
    """Ask the worker for its state; exit 0 when it answers."""
    from dgx_pixels.errors import JobError
    from dgx_pixels.jobs.client import Client

    if not 0 < timeout <= 600:
        raise InputError(f"--timeout must be in (0, 600] seconds, got {timeout:g}")
    with Client(worker_address, timeout=timeout) as client:
        pong = client.ping()
        address = client.address
    if as_json:
        click.echo(json.dumps({"address": address, **pong.to_wire()}))
    else:
        click.echo(
            f"worker {address}: {pong.state}, {pong.model}, "
            f"{pong.queued} queued, {pong.running} running (pid {pong.pid}, {pong.version})"
        )
    if ready and pong.state not in ("ready", "busy"):
        raise JobError(f"the worker at {address} is {pong.state}, not ready", address=address)
