"""``dgx-pixels mcp``: the MCP server for AI assistants (stdio, or streamable HTTP)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dgx_pixels.errors import InputError
from dgx_pixels.request import DEFAULT_MODEL

__all__ = ["TOKEN_ENV", "mcp"]

#: Environment variable holding the bearer token of the HTTP transport.
TOKEN_ENV = "DGX_PIXELS_MCP_TOKEN"
_MAX_TOKEN_FILE_BYTES = 4096


@click.command("mcp")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Project root: every path a tool reads or writes must lie inside it.",
)
@click.option("--http", "use_http", is_flag=True, help="Serve streamable HTTP instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --http: address.")
@click.option("--port", default=8765, show_default=True, help="With --http: port.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"With --http: file holding the bearer token (or set ${TOKEN_ENV}).",
)
@click.option("--worker", "worker_address", metavar="ADDR", help="Worker address (default: local).")
@click.option(
    "--model",
    default=DEFAULT_MODEL,
    show_default=True,
    help="Model of the worker started when none answers.",
)
@click.option(
    "--data-dir", type=click.Path(file_okay=False), help="The worker's data dir (jobs, keys)."
)
@click.option("--no-spawn", is_flag=True, help="Never start a worker; fail when none answers.")
def mcp(
    root: Path,
    use_http: bool,
    host: str,
    port: int,
    token_file: Path | None,
    worker_address: str | None,
    model: str,
    data_dir: str | None,
    no_spawn: bool,
) -> None:
    """Serve the tools to an MCP client (Claude Code, Cursor...): stdio by default.

    Tools: generate, restore, pixelize, palette_list/show/extract,
    jobs_list/status/cancel, models_list; resources: the gallery of sprites
    under --root. See docs/mcp.md for client configuration.
    """
    from dgx_pixels.mcp import ServerConfig, serve_http, serve_stdio
    from dgx_pixels.mcp._server import check_http_bind

    if not 1 <= port <= 65535:
        raise InputError(f"--port must be 1 to 65535, got {port}", option="port")
    config = ServerConfig(
        root=root, worker=worker_address, model=model, data_dir=data_dir, spawn=not no_spawn
    )
    if not use_http:
        serve_stdio(config)
        return
    token = _token(token_file)
    check_http_bind(host, token)
    click.echo(f"MCP over streamable HTTP at http://{host}:{port}/mcp", err=True)
    serve_http(config, host=host, port=port, token=token)


def _token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            if token_file.stat().st_size > _MAX_TOKEN_FILE_BYTES:
                raise InputError(f"{token_file}: a token file is at most 4096 bytes")
            text = token_file.read_text().strip()
        except OSError as exc:
            raise InputError(f"{token_file}: cannot read the token ({exc.strerror})") from None
        if not text:
            raise InputError(f"{token_file} is empty")
        return text
    return os.environ.get(TOKEN_ENV, "").strip() or None
