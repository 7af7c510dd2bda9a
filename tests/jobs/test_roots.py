"""The path policy at submit: files as bytes, paths inside the roots, errors that tell nothing.

A real worker over loopback, probed with a raw socket as an attacker would.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from dgx_pixels.cli import cli
from dgx_pixels.jobs import protocol as p
from dgx_pixels.jobs.limits import LIMITS
from dgx_pixels.jobs.roots import Roots
from dgx_pixels.request import GenerationRequest

from .conftest import MODEL
from .helpers import RawSocket, pack


def req(**fields: object) -> dict[str, object]:
    return {"prompt": "a slime", "model": MODEL, "seed": 1, "steps": 2, **fields}


def submit(raw: RawSocket, request: dict[str, object], **message: object) -> p.Reply:
    return raw.call(pack({"v": 1, "type": "submit", "rid": 3, "request": request, **message}))


def refusal(raw: RawSocket, **fields: object) -> str:
    reply = submit(raw, req(**fields))
    assert isinstance(reply, p.ErrorReply), f"accepted {fields}"
    assert reply.kind == "request", reply
    return reply.message


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (200, 10, 10, 255)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the worker's roots: a private image, a palette with a secret."""
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "photo.png").write_bytes(png(123, 45))
    (folder / "keys.hex").write_text("hunter2-SECRET-LINE\n")
    (folder / "style.safetensors").write_bytes(b"\x00" * 64)
    return folder


@pytest.mark.parametrize(
    "out", ["~nosuchuser/x", "~/x", "sprites\x00/x", "/tmp/../etc", "a/../../b"]
)
def test_a_poison_out_is_refused_at_submit_and_the_worker_goes_on(start_worker, out: str) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:
        assert "out must be a path inside the worker's folders" in refusal(raw, out=out)
        assert isinstance(raw.call(p.encode(p.Ping(rid=9))), p.Pong)
    finally:
        raw.close()
    with w.client() as c:
        assert c.jobs().total == 0


def test_probes_outside_the_roots_get_the_same_answer_whether_or_not_the_file_exists(
    start_worker, outside: Path
) -> None:
    w = start_worker()
    outputs = w.data.outputs
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / "link-to-photo.png").symlink_to(outside / "photo.png")
    (outputs / "link-to-nothing.png").symlink_to(outside / "nothing.png")
    (outputs / "linked-dir").symlink_to(outside)
    up = "../" * len(outputs.parts)
    probes = {  # field: (a file that exists, one that does not)
        "init": [
            (str(outside / "photo.png"), str(outside / "nothing.png")),
            (up + str(outside / "photo.png")[1:], up + str(outside / "nothing.png")[1:]),
            ("link-to-photo.png", "link-to-nothing.png"),
            ("linked-dir/photo.png", "linked-dir/nothing.png"),
            ("/etc/passwd", "/etc/no-such-file-here"),
        ],
        "palette": [
            (str(outside / "keys.hex"), str(outside / "none.hex")),
            ("linked-dir/keys.hex", "linked-dir/none.hex"),
        ],
        "lora": [(str(outside / "style.safetensors"), str(outside / "none.safetensors"))],
        "out": [(str(outside), str(outside / "new-folder")), ("linked-dir", "linked-dir/new")],
    }
    raw = RawSocket(w.address)
    try:
        for field, pairs in probes.items():
            for exists, missing in pairs:

                def ask(path: str, field: str = field) -> str:
                    if field == "lora":
                        return refusal(raw, loras=[{"id": path, "weight": 1.0}])
                    if field == "mask":
                        return refusal(raw, init=path, mask=path)
                    return refusal(raw, **{field: path})

                told, untold = ask(exists), ask(missing)
                assert told == untold, (field, exists)
                assert "inside the worker's folders" in told, told
                text = told.replace(str(w.data.root.resolve()), "")  # the roots it names
                for secret in ("hunter2", "123", "45", "photo", "exist", "found"):
                    assert secret not in text, (field, told)
    finally:
        raw.close()


def test_files_sent_as_bytes_are_stored_in_the_data_dir(start_worker, tmp_path: Path) -> None:
    w = start_worker()
    (tmp_path / "client").mkdir()
    sketch = tmp_path / "client" / "sketch.png"
    sketch.write_bytes(png(32, 32))
    palette = tmp_path / "client" / "mine.hex"
    palette.write_text("ff0000\n00ff00\n")
    request = GenerationRequest(
        prompt="a slime", model=MODEL, seed=1, steps=2, init=str(sketch), palette=str(palette)
    )
    with w.client() as c:
        job = c.run(request)
    init, pal = Path(job.request["init"]), Path(job.request["palette"])
    assert init.parent == pal.parent == w.data.inputs.resolve()
    assert init.read_bytes() == sketch.read_bytes()
    assert (pal.suffix, pal.read_text()) == (".hex", palette.read_text())
    assert "client" not in str(job.request)  # the client's paths stay with the client


def test_img2img_with_under_one_denoising_step_is_refused_at_submit(start_worker) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:
        message = refusal(raw, init="i.png", steps=3, strength=0.3)
    finally:
        raw.close()
    assert "3 x 0.3 = 0.9 denoising steps, under 1" in message


def test_inputs_are_bounded_and_named(start_worker) -> None:
    w = start_worker()
    raw = RawSocket(w.address)
    try:
        big = b"\x00" * (LIMITS.input_bytes + 1)
        reply = submit(raw, req(init="big.png"), inputs={"init": big})
        assert isinstance(reply, p.ErrorReply)
        assert (reply.kind, "(input_bytes)" in reply.message) == ("request", True)
        reply = submit(raw, req(), inputs={"script": b"x"})
        assert isinstance(reply, p.ErrorReply)
        assert reply.kind == "request"
        reply = submit(raw, req(palette="p.txt"), inputs={"palette": b"ff0000"})
        assert isinstance(reply, p.ErrorReply)
        assert ".hex, .gpl or .pal" in reply.message
        reply = submit(raw, req(), inputs={"init": b"x"})  # the request names no init
        assert isinstance(reply, p.ErrorReply)
        assert reply.kind == "request"
    finally:
        raw.close()


def test_a_root_must_be_a_folder(tmp_path: Path) -> None:
    from dgx_pixels.errors import InputError
    from dgx_pixels.jobs.worker import WorkerConfig
    from dgx_pixels.paths import DataDir

    with pytest.raises(InputError, match="not a folder"):
        WorkerConfig(data=DataDir(tmp_path), roots=(tmp_path / "nowhere",))


def test_out_goes_under_the_outputs_or_a_root_the_worker_was_given(
    start_worker, tmp_path: Path
) -> None:
    game = tmp_path / "game"
    game.mkdir()
    w = start_worker(roots=(game,))
    with w.client() as c:
        relative = c.run(GenerationRequest(prompt="a", model=MODEL, seed=1, steps=1, out="set"))
        rooted = c.run(
            GenerationRequest(prompt="b", model=MODEL, seed=1, steps=1, out=str(game / "art"))
        )
    assert Path(relative.outputs[0]["sprite"]).parent == w.data.outputs.resolve() / "set"
    assert Path(rooted.outputs[0]["sprite"]).parent == game.resolve() / "art"


def test_a_root_holding_the_data_dir_serves_none_of_its_private_files(
    start_worker, tmp_path: Path
) -> None:
    w = start_worker(roots=(tmp_path,))  # the data dir is tmp_path/data
    raw = RawSocket(w.address)
    try:
        for field, path in [
            ("init", w.data.jobs_db),
            ("palette", w.data.keys / "x.hex"),
            ("out", w.data.logs),
            ("out", w.data.root),
        ]:
            assert "inside the worker's folders" in refusal(raw, **{field: str(path)})
        assert isinstance(submit(raw, req(out=str(tmp_path / "art"))), p.JobReply)
    finally:
        raw.close()


def test_roots_confine_by_text_and_links_only(tmp_path: Path) -> None:
    roots = Roots(outputs=tmp_path / "o", inputs=tmp_path / "i")
    assert roots.confine("a/b.png", field="init") == tmp_path / "o" / "a" / "b.png"
    assert roots.confine(str(tmp_path / "i" / "x.png"), field="init") == tmp_path / "i" / "x.png"
    with pytest.raises(Exception, match="inside the worker's folders"):
        roots.confine(str(tmp_path / "i" / "x"), field="out", write=True)  # inputs: read only


def test_cli_submit_sends_local_files(start_worker, tmp_path: Path, monkeypatch) -> None:
    w = start_worker()
    monkeypatch.chdir(tmp_path)
    Path("sketch.png").write_bytes(png(16, 16))
    out = CliRunner().invoke(
        cli,
        ["submit", "a knight", "--init", "sketch.png", "--steps", "2", "--size", "16",
         "--watch", "--json", "--worker", w.address],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    with w.client() as c:
        [job] = c.jobs().jobs
    assert Path(job.request["init"]).read_bytes() == (tmp_path / "sketch.png").read_bytes()


def test_the_async_client_sends_files_too(start_worker, tmp_path: Path) -> None:
    import asyncio

    from dgx_pixels.jobs.client import AsyncClient

    w = start_worker()
    w.backend.hold.clear()
    sketch = tmp_path / "a.png"
    sketch.write_bytes(png(8, 8))

    async def main() -> p.JobRecord:
        async with AsyncClient(w.address) as c:
            request = GenerationRequest(prompt="x", model=MODEL, seed=1, steps=2, init=str(sketch))
            return await c.submit(request)

    job = asyncio.run(main())
    w.backend.hold.set()
    assert Path(job.request["init"]).read_bytes() == sketch.read_bytes()


def test_a_training_folder_sent_as_files_is_stored_once_and_names_are_plain(
    tmp_path: Path,
) -> None:
    from dataclasses import replace

    from dgx_pixels.errors import RequestError

    roots = Roots(outputs=tmp_path / "outputs", inputs=tmp_path / "inputs")
    files = {"dataset/bat.png": b"png bytes", "dataset/bat.txt": b"a bat"}
    folder = roots.admit_dataset(files)
    assert folder.parent == tmp_path / "inputs"
    assert sorted(f.name for f in folder.iterdir()) == ["bat.png", "bat.txt"]
    assert roots.admit_dataset(dict(reversed(files.items()))) == folder  # same files, same folder
    assert roots.admit_dataset({**files, "dataset/more.txt": b"x"}) != folder
    for bad in ("dataset/../x.png", "dataset/.hidden", "dataset/sub/x.png", "x.png", "dataset/"):
        with pytest.raises(RequestError, match="plain file name"):
            roots.admit_dataset({bad: b"x"})
    few = replace(LIMITS, dataset_files=1)
    with pytest.raises(RequestError, match="2 dataset files, over the limit of 1"):
        roots.admit_dataset(files, limits=few)
    small = replace(LIMITS, input_bytes=4)
    with pytest.raises(RequestError, match=r"bat\.png is 9 bytes, over the limit of 4"):
        roots.admit_dataset(files, limits=small)
    assert not list((tmp_path / "outputs").glob("**/*"))  # nothing written outside inputs
