"""The MCP server for AI assistants (``dgx-pixels mcp``).

An assistant (Claude Code, Cursor, any MCP client) calls tools with the
parameter names of the CLI and of :class:`~dgx_pixels.request.GenerationRequest`
and gets real files: their paths, each sprite as an image, and the metadata.
Every path lies inside one project root. Long work runs on the worker
(:mod:`dgx_pixels.jobs`), which the server starts when none answers.

Importing this package imports the MCP SDK (the ``mcp`` extra), never torch.
See ``docs/mcp.md`` for client configuration.
"""

from __future__ import annotations

from dgx_pixels.mcp._generation import WorkerLink
from dgx_pixels.mcp._root import OutsideRootError, ProjectRoot
from dgx_pixels.mcp._server import ServerConfig, build_server, serve_http, serve_stdio

__all__ = [
    "OutsideRootError",
    "ProjectRoot",
    "ServerConfig",
    "WorkerLink",
    "build_server",
    "serve_http",
    "serve_stdio",
]
