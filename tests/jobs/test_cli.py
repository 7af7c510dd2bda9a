"""The job commands through click's CliRunner, against a real in-process worker."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from dgx_pixels.cli import cli
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL
from .helpers import wait_until


def run(*args: str, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env or None)


def test_submit_watch_jobs_cancel(start_worker) -> None:
    w = start_worker()
    out = run(
        "submit",
        "a tiny knight",
        "--fast",
        "--size",
        "16x24",
        "--steps",
        "2",
        "--seed",
        "5",
        "--watch",
        "--worker",
        w.address,
    )
    assert out.exit_code == 0, out.output
    assert "job 1 queued (priority 0, seed 5)" in out.output
    sprite = out.output.strip().splitlines()[-1]
    assert sprite.endswith("a-tiny-knight-5.png")

    listed = run("jobs", "--json", DGX_PIXELS_WORKER=w.address)  # address from the environment
    assert listed.exit_code == 0, listed.output
    [job] = json.loads(listed.output)
    assert job["id"] == 1
    assert job["state"] == "done"
    assert job["prompt"] == "a tiny knight"
    assert job["request"]["size"] == [16, 24]
    # built as generate builds it: --fast brings its sampler, explicit --steps wins
    assert (job["request"]["fast"], job["request"]["scheduler"]) == (True, "lcm")
    assert (job["request"]["guidance"], job["request"]["steps"]) == (1.0, 2)
    assert job["request"]["model"] == MODEL
    assert job["outputs"][0]["sprite"] == sprite

    watched = run("watch", "1", "--json", "--worker", w.address)
    assert watched.exit_code == 0
    assert json.loads(watched.output.splitlines()[-1])["type"] == "done"

    table = run("jobs", "--worker", w.address)
    header = table.output.splitlines()[0]  # the state may still read busy for a moment
    assert header.startswith(f"worker {w.address}: ")
    assert header.endswith(f", {MODEL}, 0 queued, 0 running")
    assert "a tiny knight" in table.output
    assert "done" in table.output

    w.backend.hold.clear()
    held = run("submit", "held", "--priority", "2", "--json", "--worker", w.address)
    held_id = json.loads(held.output)["id"]
    queued = run("submit", "queued", "--size", "8", "--json", "--worker", w.address)
    queued_id = json.loads(queued.output)["id"]
    wait_until(w.backend.running.is_set, "the held job to run")
    assert run("cancel", str(queued_id), "--worker", w.address).output == (
        f"job {queued_id} cancelled\n"
    )
    stopping = run("cancel", str(held_id), "--worker", w.address)
    assert stopping.output == f"job {held_id} is stopping (within one denoising step)\n"
    w.backend.hold.set()
    cancelled = run("watch", str(held_id), "--worker", w.address)
    assert cancelled.exit_code == 7
    assert f"job {held_id} was cancelled" in cancelled.output


def test_user_errors_are_one_line_with_an_exit_code(start_worker) -> None:
    w = start_worker()
    bad_size = run("submit", "x", "--size", "big", "--worker", w.address)
    assert bad_size.exit_code == 2
    assert bad_size.output.strip() == "Error: --size must look like 32 or 32x48, got 'big'"
    too_big = run("submit", "x", "--size", "1024", "--worker", w.address)
    assert too_big.exit_code == 2
    assert "sprite width must be between 1 and 512, got 1024" in too_big.output
    priority = run("submit", "x", "--priority", "5000", "--worker", w.address)
    assert priority.exit_code == 2
    assert "priority must be between -1000 and 1000, got 5000" in priority.output
    no_prompt = run("submit", "--worker", w.address)
    assert no_prompt.exit_code == 2
    assert "missing PROMPT" in no_prompt.output
    missing_model = run("submit", "x", "--model", "missing:x", "--watch", "--worker", w.address)
    assert missing_model.exit_code == 5  # the job fails with the model error; the worker serves on
    assert "model 'missing:x' is not cached" in missing_model.output
    missing = run("watch", "999", "--worker", w.address)
    assert (missing.exit_code, missing.output) == (7, "Error: no job 999\n")
    bad_address = run("jobs", "--worker", "localhost:5557")
    assert bad_address.exit_code == 2
    assert "tcp://HOST:PORT" in bad_address.output


def test_no_worker(tmp_path) -> None:
    out = run("jobs", "--worker", "tcp://127.0.0.1:9", "--timeout", "0.2")
    assert out.exit_code == 7
    assert out.output.startswith("Error: no worker answered at tcp://127.0.0.1:9 within 0.2 s")
    assert len(out.output.strip().splitlines()) == 1


def test_worker_refuses_a_public_address_without_keys(tmp_path) -> None:
    out = run("worker", "--bind", "tcp://0.0.0.0:5999", "--data-dir", str(tmp_path), "--no-metrics")
    assert out.exit_code == 7
    assert "needs CURVE keys" in out.output
    assert "--init-keys" in out.output


def test_init_keys(tmp_path) -> None:
    out = run("worker", "--init-keys", "--data-dir", str(tmp_path))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "keys" / "server.key_secret").is_file()
    assert (tmp_path / "keys" / "authorized" / "client.key").is_file()
    again = run("worker", "--init-keys", "--data-dir", str(tmp_path))
    assert again.exit_code == 3
    assert "already exists; use --force" in again.output


def test_submit_sends_a_palette_file_and_out_names_a_worker_folder(
    start_worker, tmp_path, monkeypatch
) -> None:
    w = start_worker()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.hex").write_text("000000\nffffff\n")
    out = run(
        "submit", "x", "--out", "sprites", "--palette", "mine.hex", "--json",
        "--worker", w.address,
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    request = json.loads(out.output)["request"]
    assert request["out"] == str(w.data.outputs.resolve() / "sprites")  # under the worker's
    sent = Path(request["palette"])
    assert sent.parent == w.data.inputs.resolve()
    assert sent.read_text() == (tmp_path / "mine.hex").read_text()
    named = run("submit", "x", "--palette", "pico-8", "--json", "--worker", w.address)
    assert json.loads(named.output)["request"]["palette"] == "pico-8"


def test_jobs_and_watch_print_prompts_and_errors_escaped(start_worker) -> None:
    w = start_worker()
    w.backend.hold.clear()
    forged = "a knight\n    99  done          0     0s  forged row\r\x1b[2J\u2028"
    with w.client() as c:
        c.submit(GenerationRequest(prompt=forged, model=MODEL, seed=1, steps=1))
    table = run("jobs", "--worker", w.address)
    w.backend.hold.set()
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert len(lines) == 3  # the worker line, the header, one job
    assert "\x1b" not in table.output
    assert "\r" not in table.output
    assert lines[2].endswith(r"  a knight\n    99  done          0     0s  forged …")
    with w.client() as c:
        job = c.submit(GenerationRequest(prompt="explode\n\x1b[31mred", model=MODEL, seed=1))
    watched = run("watch", str(job.id), "--worker", w.address)
    assert watched.exit_code == 6
    assert "\x1b" not in watched.output


def test_an_error_message_from_a_worker_prints_as_one_line() -> None:
    from dgx_pixels.cli import UserError
    from dgx_pixels.errors import GenerationError

    shown = UserError(GenerationError("job 3 failed: bad\nerror: forged line\x1b[2J")).message
    assert shown == r"job 3 failed: bad\nerror: forged line\x1b[2J"
