"""Who may talk to a worker: loopback by default, CURVE keys beyond it.

A worker bound to a loopback address (``127.0.0.0/8``, ``::1``,
``localhost``) or an ``ipc://`` path serves only this machine and needs no
keys. Any other address (a LAN address, ``0.0.0.0``, ``*``) requires
ZeroMQ CURVE: the worker encrypts and authenticates every connection and
accepts only clients whose public key is in ``<data dir>/keys/authorized/``.
``dgx-pixels worker --init-keys`` creates::

    keys/server.key           worker public key      (give to clients)
    keys/server.key_secret    worker secret key      (stays on the worker)
    keys/client.key           a client public key    (also in authorized/)
    keys/client.key_secret    that client's secret   (give to the client)
    keys/authorized/          public keys of the clients the worker accepts

A client on another machine puts ``server.key`` and ``client.key_secret`` in
its own ``<data dir>/keys/``.

>>> is_loopback("tcp://127.0.0.1:5557"), is_loopback("tcp://[::1]:5557")
(True, True)
>>> is_loopback("tcp://0.0.0.0:5557"), is_loopback("tcp://*:5557")
(False, False)
"""

from __future__ import annotations

import ipaddress
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dgx_pixels.errors import InputError, JobError, OutputExistsError

__all__ = [
    "ClientKeys",
    "ServerKeys",
    "endpoint_host",
    "init_keys",
    "ip_of",
    "is_loopback",
    "load_client_keys",
    "load_server_keys",
]

_LOCAL_TRANSPORTS = ("ipc://", "inproc://")


def endpoint_host(address: str) -> str:
    """The host part of ``tcp://HOST:PORT`` (brackets of IPv6 removed).

    Raises :class:`~dgx_pixels.errors.InputError` for anything else.
    """
    if not address.startswith("tcp://"):
        raise InputError(
            f"worker address must look like tcp://HOST:PORT or ipc://PATH, got {address!r}"
        )
    host, sep, port = address[len("tcp://") :].rpartition(":")
    if not sep or not host or not (port == "*" or port.isdigit()):
        raise InputError(f"worker address must look like tcp://HOST:PORT, got {address!r}")
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(address: str) -> bool:
    """Whether ``address`` can only be reached from this machine."""
    if address.startswith(_LOCAL_TRANSPORTS):
        return True
    host = endpoint_host(address)
    if host == "localhost":
        return True
    ip = ip_of(host)
    return ip is not None and ip.is_loopback  # None: an interface, '*' or a host name


def ip_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address (an IPv4-mapped IPv6 one as IPv4), or None if it is a name.

    >>> ip_of("::ffff:127.0.0.1"), ip_of("spark.local")
    (IPv4Address('127.0.0.1'), None)
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@dataclass(frozen=True, slots=True)
class ServerKeys:
    """What a worker needs for CURVE: its key pair and the authorized client keys."""

    public: bytes
    secret: bytes
    authorized: Path


@dataclass(frozen=True, slots=True)
class ClientKeys:
    """What a client needs for CURVE: the worker's public key and its own key pair."""

    server_public: bytes
    public: bytes
    secret: bytes

    def apply(self, socket: Any) -> None:
        """Make ``socket`` (a zmq socket) a CURVE client of the worker."""
        import zmq

        socket.setsockopt(zmq.CURVE_SERVERKEY, self.server_public)
        socket.setsockopt(zmq.CURVE_PUBLICKEY, self.public)
        socket.setsockopt(zmq.CURVE_SECRETKEY, self.secret)


def init_keys(keys_dir: Path, *, force: bool = False) -> list[Path]:
    """Create a worker key pair and one client key pair; return the files written."""
    import zmq.auth

    server_secret = keys_dir / "server.key_secret"
    if server_secret.exists() and not force:
        raise OutputExistsError(
            f"{server_secret} already exists; use --force to replace the keys",
            path=str(server_secret),
        )
    authorized = keys_dir / "authorized"
    authorized.mkdir(parents=True, exist_ok=True, mode=0o700)
    keys_dir.chmod(0o700)
    written: list[Path] = []
    for name in ("server", "client"):
        public, secret = zmq.auth.create_certificates(str(keys_dir), name)
        Path(secret).chmod(0o600)
        written += [Path(public), Path(secret)]
    written.append(Path(shutil.copy(keys_dir / "client.key", authorized / "client.key")))
    return written


def load_server_keys(keys_dir: Path) -> ServerKeys:
    """The worker's keys; :class:`JobError` naming ``--init-keys`` when missing."""
    import zmq.auth

    secret_file = keys_dir / "server.key_secret"
    authorized = keys_dir / "authorized"
    if not secret_file.is_file() or not authorized.is_dir():
        raise JobError(
            f"binding beyond loopback needs CURVE keys, and {secret_file} does not exist; "
            "create them with: dgx-pixels worker --init-keys",
            path=str(secret_file),
        )
    public, secret = zmq.auth.load_certificate(str(secret_file))
    if secret is None:
        raise JobError(f"{secret_file} holds no secret key", path=str(secret_file))
    if not any(authorized.glob("*.key")):
        raise JobError(
            f"no client is authorized: {authorized} holds no *.key file", path=str(authorized)
        )
    return ServerKeys(public=public, secret=secret, authorized=authorized)


def load_client_keys(keys_dir: Path) -> ClientKeys | None:
    """The client's keys when both files are present, else ``None``."""
    import zmq.auth

    server_file, secret_file = keys_dir / "server.key", keys_dir / "client.key_secret"
    if not (server_file.is_file() and secret_file.is_file()):
        return None
    server_public, _ = zmq.auth.load_certificate(str(server_file))
    public, secret = zmq.auth.load_certificate(str(secret_file))
    if secret is None:
        raise JobError(f"{secret_file} holds no secret key", path=str(secret_file))
    return ClientKeys(server_public=server_public, public=public, secret=secret)
