"""A fake Hugging Face hub on 127.0.0.1, for testing downloads without the internet.

It speaks the part of the hub's HTTP protocol that huggingface_hub 2.4.0 and
diffusers use to find and download a model repository, as that version of
huggingface_hub expects it (``hf_api.py``, ``file_download.py``,
``_snapshot_download.py``, ``utils/_http.py``). Select it by pointing
``HF_ENDPOINT`` (and the constants huggingface_hub read from it at import) at
:attr:`FakeHub.endpoint`.

The hub, on one port::

    GET       /api/models/{repo}                     repo info: id, sha, siblings
    GET       /api/models/{repo}/revision/{rev}      the same at a revision (with
                                                     ?blobs=true: sizes, git oids, lfs)
    GET       /api/models/{repo}/tree/{rev}          the top folder's listing, one page
                                                     (?recursive=true: the whole tree)
    HEAD, GET /{repo}/resolve/{rev}/{path}           a file

and a CDN for the LFS files, on a second port (another origin, as the real
CDN is, so the client does not follow the redirect on HEAD but reads the
file's metadata from it)::

    HEAD, GET /lfs/{sha256}                          an LFS file's content

``{rev}`` is ``main`` or the repository's commit sha. A file in git (JSON,
text) is answered with ``200``, its content, ``ETag: "<git blob sha1>"`` and
``Content-Length``; an LFS file (``*.safetensors`` and the other suffixes in
:data:`LFS_SUFFIXES`) with ``302`` to the CDN, ``X-Linked-Etag:
"<sha256>"`` and ``X-Linked-Size``. Every answer about a repository carries
``X-Repo-Commit``. Refusals carry the hub's ``X-Error-Code`` and
``X-Error-Message``: ``RepoNotFound`` (``401``, as the hub answers an
anonymous client, so that a private repository and a missing one look the
same), ``RevisionNotFound`` and ``EntryNotFound`` (``404``). Any other path is
a plain ``404``. No ``X-Xet-*`` header is ever sent, so clients download over
plain HTTP.

Not implemented: authentication (tokens are ignored), ``Range`` requests
(a resumed download gets the whole file with ``200``, which the client
handles), listing a subfolder, pagination of long listings, directory oids
in tree listings (placeholders), uploads and every other endpoint.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["LFS_SUFFIXES", "FakeHub", "FakeRepo"]

#: Suffixes a new hub repository's ``.gitattributes`` stores in LFS (a subset).
LFS_SUFFIXES = (".safetensors", ".bin", ".ckpt", ".pt", ".pth", ".onnx")

_API = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)(?:/revision/(?P<rev>[^/]+))?")
_TREE = re.compile(r"/api/models/(?P<repo>[^/]+/[^/]+)/tree/(?P<rev>[^/]+)")
_RESOLVE = re.compile(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)")
_CDN = re.compile(r"/lfs/(?P<sha256>[0-9a-f]{64})")


def git_blob_sha1(content: bytes) -> str:
    """The id git gives a file: SHA-1 of ``blob <size>\\0`` and the content.

    >>> git_blob_sha1(b"")  # git hash-object /dev/null
    'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391'
    """
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class FakeRepo:
    """One model repository at one commit: ``path -> content``."""

    commit: str
    files: Mapping[str, bytes]

    @classmethod
    def from_folder(cls, folder: Path, commit: str) -> FakeRepo:
        """Every file under ``folder``, plus the ``.gitattributes`` a hub repository has."""
        rules = "".join(f"*{s} filter=lfs diff=lfs merge=lfs -text\n" for s in LFS_SUFFIXES)
        files = {".gitattributes": rules.encode()}
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                files[path.relative_to(folder).as_posix()] = path.read_bytes()
        return cls(commit, files)

    @functools.cached_property
    def lfs(self) -> dict[str, str]:
        """The files kept in LFS: ``path -> SHA-256 of the content``."""
        return {
            path: hashlib.sha256(content).hexdigest()
            for path, content in self.files.items()
            if path.endswith(LFS_SUFFIXES)
        }

    def entry(self, path: str) -> dict[str, Any]:
        """A file as the tree listing (and ``siblings`` with ``blobs=true``) describes it.

        The git oid of an LFS file is that of the pointer git holds in its place.
        """
        content = self.files[path]
        if path not in self.lfs:
            oid = git_blob_sha1(content)
            return {"type": "file", "oid": oid, "size": len(content), "path": path}
        pointer = (
            "version https://git-lfs.github.com/spec/v1\n"
            f"oid sha256:{self.lfs[path]}\nsize {len(content)}\n"
        ).encode()
        lfs = {"oid": self.lfs[path], "size": len(content), "pointerSize": len(pointer)}
        return {
            "type": "file",
            "oid": git_blob_sha1(pointer),
            "size": len(content),
            "path": path,
            "lfs": lfs,
        }


@dataclass
class FakeHub:
    """The fake hub and its CDN, each served by a thread; use it as a context manager.

    ``requests`` records each request to either as ``"METHOD path"``, in
    the order they arrived. With ``pace`` (seconds) a body is sent in 64 KiB
    pieces with that pause between them, as a slow link would (progress tests).
    """

    repos: Mapping[str, FakeRepo]
    requests: list[str] = field(default_factory=list)
    pace: float = 0.0

    def __post_init__(self) -> None:
        self._hub = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, self, False))
        self._cdn = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, self, True))
        # serve_forever checks for shutdown() every poll_interval: short, for a quick close.
        self._threads = [
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
            for server in (self._hub, self._cdn)
        ]

    @property
    def endpoint(self) -> str:
        """The hub's URL, the value for ``HF_ENDPOINT``."""
        return f"http://127.0.0.1:{self._hub.server_port}"

    @property
    def cdn(self) -> str:
        """The CDN's URL, where the hub redirects downloads of LFS files."""
        return f"http://127.0.0.1:{self._cdn.server_port}"

    def __enter__(self) -> FakeHub:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for server in (self._hub, self._cdn):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()

    def answer(self, method: str, target: str, *, on_cdn: bool) -> _Answer:
        """What the hub (or, ``on_cdn``, the CDN) answers to ``method target``."""
        self.requests.append(f"{method} {target}")
        url = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            if on_cdn:
                if m := _CDN.fullmatch(url.path):
                    return self._lfs_content(m["sha256"])
            elif method == "GET" and (m := _TREE.fullmatch(url.path)):
                return self._tree(self._find(m["repo"], m["rev"]), query)
            elif method == "GET" and (m := _API.fullmatch(url.path)):
                repo_id = unquote(m["repo"])
                return self._info(repo_id, self._find(repo_id, m["rev"] or "main"), query)
            elif m := _RESOLVE.fullmatch(url.path):
                return self._resolve(self._find(m["repo"], m["rev"]), unquote(m["path"]))
        except _Refused as refused:
            return refused.answer
        return _Answer(404, body=b"Not Found")

    # -- the endpoints ------------------------------------------------------

    def _find(self, repo_id: str, rev: str) -> FakeRepo:
        """The repository ``repo_id`` (URL-quoted) at ``rev``; refused when there is none."""
        repo = self.repos.get(unquote(repo_id))
        if repo is None:
            raise _Refused(_error(401, "RepoNotFound", "Repository not found"))
        if unquote(rev) not in ("main", repo.commit):
            raise _Refused(_error(404, "RevisionNotFound", f"Invalid rev id: {unquote(rev)}"))
        return repo

    def _info(self, repo_id: str, repo: FakeRepo, query: dict[str, str]) -> _Answer:
        with_blobs = query.get("blobs") == "true"
        siblings = [
            {"rfilename": path, **(_sibling_blobs(repo.entry(path)) if with_blobs else {})}
            for path in sorted(repo.files)
        ]
        return _Answer.json(
            {
                "id": repo_id,
                "modelId": repo_id,
                "author": repo_id.split("/")[0],
                "sha": repo.commit,
                "lastModified": "2025-01-01T00:00:00.000Z",
                "createdAt": "2025-01-01T00:00:00.000Z",
                "private": False,
                "gated": False,
                "disabled": False,
                "library_name": "diffusers",
                "pipeline_tag": "text-to-image",
                "tags": ["diffusers", "safetensors", "text-to-image"],
                "siblings": siblings,
            }
        )

    def _tree(self, repo: FakeRepo, query: dict[str, str]) -> _Answer:
        recursive = query.get("recursive") == "true"
        folders = sorted({path.rsplit("/", 1)[0] for path in repo.files if "/" in path})
        listing: list[dict[str, Any]] = []
        for path in [*folders, *sorted(repo.files)]:
            if not recursive and "/" in path:
                continue
            if path in repo.files:
                listing.append(repo.entry(path))
            else:  # a folder; its oid would be its git tree's, nothing here reads it
                oid = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
                listing.append({"type": "directory", "oid": oid, "size": 0, "path": path})
        return _Answer.json(listing, commit=repo.commit)

    def _resolve(self, repo: FakeRepo, path: str) -> _Answer:
        if path not in repo.files:
            raise _Refused(_error(404, "EntryNotFound", "Entry not found", repo.commit))
        content = repo.files[path]
        if path not in repo.lfs:
            headers = {"ETag": f'"{git_blob_sha1(content)}"', "X-Repo-Commit": repo.commit}
            return _Answer(200, headers, content, content_type="application/octet-stream")
        sha256 = repo.lfs[path]
        location = f"{self.cdn}/lfs/{sha256}"
        headers = {
            "Location": location,
            "ETag": f'"{sha256}"',
            "X-Linked-Etag": f'"{sha256}"',
            "X-Linked-Size": str(len(content)),
            "X-Repo-Commit": repo.commit,
        }
        return _Answer(302, headers, f"Found. Redirecting to {location}".encode())

    def _lfs_content(self, sha256: str) -> _Answer:
        for repo in self.repos.values():
            for path, digest in repo.lfs.items():
                if digest == sha256:
                    headers = {"ETag": f'"{sha256}"'}
                    content = repo.files[path]
                    return _Answer(200, headers, content, content_type="binary/octet-stream")
        return _Answer(404, body=b"Not Found")


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def json(cls, data: Any, *, commit: str | None = None) -> _Answer:
        headers = {"X-Repo-Commit": commit} if commit else {}
        return cls(200, headers, json.dumps(data).encode(), "application/json; charset=utf-8")


class _Refused(Exception):
    """The hub refuses the request with ``answer``."""

    def __init__(self, answer: _Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def _error(status: int, code: str, message: str, commit: str | None = None) -> _Answer:
    headers = {"X-Error-Code": code, "X-Error-Message": message}
    if commit:
        headers["X-Repo-Commit"] = commit
    body = json.dumps({"error": message}).encode()
    return _Answer(status, headers, body, "application/json; charset=utf-8")


def _sibling_blobs(entry: dict[str, Any]) -> dict[str, Any]:
    """A tree entry's metadata as ``siblings`` spell it."""
    blobs: dict[str, Any] = {"size": entry["size"], "blobId": entry["oid"]}
    if lfs := entry.get("lfs"):
        sha256, size, pointer_size = lfs["oid"], lfs["size"], lfs["pointerSize"]
        blobs["lfs"] = {"sha256": sha256, "size": size, "pointerSize": pointer_size}
    return blobs


class _Handler(BaseHTTPRequestHandler):
    """Hands each request to :meth:`FakeHub.answer`; HTTP/1.0, one request per connection."""

    server_version = "FakeHub/1.0"

    def __init__(self, hub: FakeHub, on_cdn: bool, *args: Any) -> None:
        self.hub, self.on_cdn = hub, on_cdn  # set first: the base class handles the request
        super().__init__(*args)

    def do_GET(self) -> None:
        self._reply(send_body=True)

    def do_HEAD(self) -> None:
        self._reply(send_body=False)

    def _reply(self, *, send_body: bool) -> None:
        answer = self.hub.answer(self.command, self.path, on_cdn=self.on_cdn)
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            piece = 1 << 16 if self.hub.pace else max(1, len(answer.body))
            for start in range(0, len(answer.body), piece):
                self.wfile.write(answer.body[start : start + piece])
                if self.hub.pace:
                    self.wfile.flush()
                    time.sleep(self.hub.pace)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: :attr:`FakeHub.requests` records the requests."""
