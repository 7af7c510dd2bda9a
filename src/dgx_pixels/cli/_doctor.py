"""``dgx-pixels doctor``: what this machine has and lacks, with the fix for each."""

from __future__ import annotations

import json

import click

__all__ = ["doctor"]


@click.command("doctor")
@click.option("--worker", "worker_address", metavar="ADDR", help="Worker address to check.")
@click.option("--data-dir", help="The data dir to check (default: the one in effect).")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(worker_address: str | None, data_dir: str | None, as_json: bool) -> None:
    """Check the GPU, CUDA, driver, torch, memory, models, terminal, the worker and ports.

    Each missing thing comes with the command that fixes it. Exit 0: this is
    a report, not a test.
    """
    from dgx_pixels.doctor import checks

    found = checks(worker=worker_address, data_dir=data_dir)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in found], indent=2))
        return
    for check in found:
        click.echo(check.line())
    missing = sum(c.status == "missing" for c in found)
    click.echo(f"\n{missing} missing" if missing else "\nnothing missing")
