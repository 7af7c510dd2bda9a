"""The MCP server: the tools, the gallery, and the two transports.

:func:`build_server` makes an :class:`~mcp.server.mcpserver.MCPServer` with
every tool whose feature exists (generate, restore, pixelize, palettes, jobs,
models, and the model-free animate, tileset, sheet and export) and the gallery
resources, confined to one project root.
:func:`serve_stdio` runs it for a client that starts it as a subprocess
(Claude Code, Cursor); :func:`serve_http` runs streamable HTTP, on loopback
unless a bearer token is configured.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import Resource

from dgx_pixels import __version__
from dgx_pixels.errors import InputError
from dgx_pixels.mcp._gallery import register_gallery, sprite_resources
from dgx_pixels.mcp._generation import WorkerLink, register_generation_tools
from dgx_pixels.mcp._images import register_image_tools
from dgx_pixels.mcp._root import ProjectRoot
from dgx_pixels.mcp._sets import register_set_tools
from dgx_pixels.mcp._sprites import register_sprite_tools
from dgx_pixels.request import DEFAULT_MODEL

__all__ = ["MIN_TOKEN_CHARS", "ServerConfig", "build_server", "serve_http", "serve_stdio"]

log = logging.getLogger(__name__)

#: A bearer token shorter than this is refused (guessable).
MIN_TOKEN_CHARS = 32

INSTRUCTIONS = """\
DGX-Pixels makes game-ready pixel art: true-resolution sprites (size 32 makes a
32x32 PNG), limited palettes, transparent backgrounds. `generate` draws sprites
from a prompt on the GPU worker (progress is reported; cancel to stop the job);
`restore` recovers the true sprite from AI "pseudo pixel art"; `pixelize` turns
any image into pixel art. `animate` (a sprite + an effect), `tileset` (an
A2-style template), `sheet` (frames) and `export` (assets -> Godot, Bevy,
Tiled, TexturePacker, Aseprite files) need no model. Every path is relative to
the project root and must stay inside it. Results name every file written and
show each sprite enlarged.
"""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """What one server serves: the project root and how to reach (or start) the worker."""

    root: Path
    worker: str | None = None
    model: str = DEFAULT_MODEL
    data_dir: str | None = None
    spawn: bool = True


class _GalleryServer(MCPServer[Any]):
    """An MCPServer whose resource list also names each sprite of the gallery."""

    def __init__(self, root: ProjectRoot, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._root = root

    async def list_resources(self) -> list[Resource]:
        return [*await super().list_resources(), *sprite_resources(self._root)]


def build_server(config: ServerConfig) -> tuple[MCPServer[Any], WorkerLink]:
    """The server for ``config``, and its worker link (close it when the server stops)."""
    root = ProjectRoot.at(config.root)
    link = WorkerLink(
        address=config.worker,
        model=config.model,
        data_dir=config.data_dir,
        spawn=config.spawn,
        roots=(str(root.path),),
    )
    server = _GalleryServer(root, name="dgx-pixels", version=__version__, instructions=INSTRUCTIONS)
    register_image_tools(server, root)
    register_generation_tools(server, root, link)
    register_sprite_tools(server, root)
    register_set_tools(server, root, link)
    register_gallery(server, root)
    return server, link


def serve_stdio(config: ServerConfig) -> None:
    """Serve over stdin/stdout until the client closes them."""
    server, link = build_server(config)
    try:
        server.run("stdio")
    finally:
        link.close()


def serve_http(config: ServerConfig, *, host: str, port: int, token: str | None) -> None:
    """Serve streamable HTTP at ``http://HOST:PORT/mcp``.

    A host other than loopback needs ``token``: every request must then carry
    ``Authorization: Bearer TOKEN``. A token-less non-loopback bind is refused.
    """
    import uvicorn

    check_http_bind(host, token)
    server, link = build_server(config)
    app = server.streamable_http_app(host=host)
    asgi: Any = app if token is None else BearerToken(app, token)
    try:
        uvicorn.run(asgi, host=host, port=port, log_level="warning")
    finally:
        link.close()


def check_http_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback ``host`` without a token, and a short token.

    >>> check_http_bind("127.0.0.1", None)
    >>> check_http_bind("0.0.0.0", None)
    Traceback (most recent call last):
    ...
    dgx_pixels.errors.InputError: --host 0.0.0.0 is reachable from other machines: set a token ...
    """
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise InputError(f"the token must be at least {MIN_TOKEN_CHARS} characters")
    if token is None and not _is_loopback_host(host):
        raise InputError(
            f"--host {host} is reachable from other machines: set a token (DGX_PIXELS_MCP_TOKEN "
            "or --token-file), or keep the default 127.0.0.1"
        )


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BearerToken:
    """ASGI middleware: HTTP requests without ``Authorization: Bearer TOKEN`` get a 401."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self._expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"text/plain"),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b"missing or wrong token\n"})
                return
        await self.app(scope, receive, send)
