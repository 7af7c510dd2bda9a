"""The one safe writer: confined to the target folder, no clobbering, atomic, all or nothing."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from dgx_pixels.errors import DgxPixelsError, InputError, OutputExistsError
from dgx_pixels.export import OutFile, check_name, write_files


def out(name: str, data: bytes = b"data") -> OutFile:
    return OutFile(PurePosixPath(name), data, "test")


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_writes_new_files_in_new_folders_and_reports_each(tmp_path: Path) -> None:
    root = tmp_path / "game"
    report = write_files(root, [out("assets/knight/knight.png", b"png"), out("knight.ron", b"r")])
    assert tree(root) == {"assets/knight/knight.png": b"png", "knight.ron": b"r"}
    assert [w.line() for w in report] == [
        f"wrote {root / 'assets/knight/knight.png'} (test)",
        f"wrote {root / 'knight.ron'} (test)",
    ]
    assert not list(root.rglob(".*.tmp"))  # no temporary files left behind


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../outside.txt", "'..' would leave the target folder"),
        ("assets/../../outside.txt", "'..' would leave the target folder"),
        ("/etc/passwd", "an absolute name"),
        ("C:/game/x.png", "an absolute name"),
        ("assets\\x.png", "a backslash"),
        ("", "an empty file name"),
    ],
)
def test_names_that_leave_the_folder_are_refused_before_anything_is_written(
    tmp_path: Path, name: str, why: str
) -> None:
    root = tmp_path / "game"
    root.mkdir()
    with pytest.raises(InputError, match=why.replace("(", r"\(")):
        write_files(root, [out("first.txt"), out(name)])
    assert tree(tmp_path) == {}


def test_a_folder_link_that_points_out_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "game"
    outside = tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "assets").symlink_to(outside)
    with pytest.raises(InputError, match=r"a link in its path leads to .*elsewhere.*, outside"):
        write_files(root, [out("assets/knight/knight.png")])
    assert not any(outside.iterdir())


def test_a_link_in_a_files_place_is_refused_even_inside(tmp_path: Path) -> None:
    root = tmp_path / "game"
    root.mkdir()
    (root / "real.png").write_bytes(b"the user's file")
    (root / "knight.png").symlink_to(root / "real.png")
    with pytest.raises(InputError, match=r"is a symbolic link .*refusing to write through it"):
        write_files(root, [out("knight.png")], force=True)
    assert (root / "real.png").read_bytes() == b"the user's file"


def test_a_folder_link_inside_the_project_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "game"
    (root / "shared").mkdir(parents=True)
    (root / "assets").symlink_to(root / "shared")
    write_files(root, [out("assets/knight.png", b"k")])
    assert (root / "shared" / "knight.png").read_bytes() == b"k"


def test_a_root_that_is_a_link_is_resolved_once(tmp_path: Path) -> None:
    real = tmp_path / "real-game"
    real.mkdir()
    (tmp_path / "game").symlink_to(real)
    write_files(tmp_path / "game", [out("a.txt")])
    assert (real / "a.txt").read_bytes() == b"data"


def test_an_existing_file_is_never_replaced_without_force(tmp_path: Path) -> None:
    root = tmp_path / "game"
    root.mkdir()
    (root / "knight.png").write_bytes(b"old")
    with pytest.raises(OutputExistsError, match=r"knight.png already exists .*--force"):
        write_files(root, [out("new.txt"), out("knight.png", b"new")])
    assert tree(root) == {"knight.png": b"old"}  # and new.txt was not written either


def test_force_replaces_only_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "game"
    first = write_files(root, [out("a.png", b"a"), out("b.png", b"b")])
    assert [w.action for w in first] == ["new", "new"]
    (root / "mine.txt").write_bytes(b"the user's own file")
    mtime = (root / "a.png").stat().st_mtime_ns
    again = write_files(root, [out("a.png", b"a"), out("b.png", b"B")], force=True)
    assert [w.action for w in again] == ["unchanged", "replaced"]
    assert [w.line() for w in again] == [
        f"unchanged {root / 'a.png'} (test)",
        f"replaced {root / 'b.png'} (test)",
    ]
    assert (root / "a.png").stat().st_mtime_ns == mtime
    assert tree(root) == {"a.png": b"a", "b.png": b"B", "mine.txt": b"the user's own file"}


def test_an_unchanged_re_export_needs_no_force(tmp_path: Path) -> None:
    write_files(tmp_path, [out("a.png", b"a")])
    assert [w.action for w in write_files(tmp_path, [out("a.png", b"a")])] == ["unchanged"]


def test_dry_run_writes_nothing_and_says_what_would_happen(tmp_path: Path) -> None:
    root = tmp_path / "game"
    root.mkdir()
    (root / "b.png").write_bytes(b"old")
    report = write_files(root, [out("a.png"), out("b.png", b"new")], force=True, dry_run=True)
    assert [w.line(dry_run=True) for w in report] == [
        f"would write {root / 'a.png'} (test)",
        f"would replace {root / 'b.png'} (test)",
    ]
    assert tree(root) == {"b.png": b"old"}


def test_two_files_with_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="two files of this export share the name"):
        write_files(tmp_path, [out("a.png"), out("./a.png")])


def test_a_target_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "game").write_text("not a folder")
    with pytest.raises(InputError, match="exists and is not a folder"):
        write_files(tmp_path / "game", [out("a.png")])


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` unwritable: chmod for a normal user, the immutable flag for root."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    try:
        subprocess.run(["chattr", "+i", str(folder)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("running as root where chattr +i is not available: cannot make it read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_a_read_only_target_fails_with_the_path_and_leaves_nothing(tmp_path: Path) -> None:
    root = tmp_path / "game"
    (root / "writable").mkdir(parents=True)
    (root / "locked").mkdir()
    with read_only(root / "locked"), pytest.raises(DgxPixelsError) as caught:
        write_files(root, [out("writable/a.png"), out("locked/b.png")])
    assert "locked/b.png: cannot write" in caught.value.message
    assert not isinstance(caught.value, InputError | OutputExistsError)
    assert tree(root) == {}  # writable/a.png, written first, was removed again


def test_check_name_normalises_harmless_dots() -> None:
    assert check_name("./assets//knight.png") == PurePosixPath("assets/knight.png")
