"""Small helpers shared by the job tests."""

from __future__ import annotations

import time
from collections.abc import Callable

import msgpack
import zmq

from dgx_pixels.jobs import protocol as p

#: A liveness guard, never an assertion about speed: tests wait for events,
#: and only a hung worker ever gets near this.
PATIENCE_S = 60.0


def wait_until(predicate: Callable[[], object], what: str, timeout: float = PATIENCE_S) -> None:
    """Poll ``predicate`` until true; fail the test if it never becomes true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


class RawSocket:
    """A bare DEALER (or REQ) socket for sending arbitrary frames to a worker."""

    def __init__(self, address: str, kind: int = zmq.DEALER) -> None:
        self.sock = zmq.Context.instance().socket(kind)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(address)

    def call(self, *frames: bytes) -> p.Reply:
        self.sock.send_multipart(list(frames))
        if not self.sock.poll(int(PATIENCE_S * 1000)):
            raise AssertionError("the worker did not answer")
        *_envelope, frame = self.sock.recv_multipart()  # a REQ-style request gets b"" first
        reply = p.decode(frame, expect=p.REPLY_TYPES)
        assert isinstance(reply, p.Reply)
        return reply

    def close(self) -> None:
        self.sock.close(linger=0)


def pack(data: object) -> bytes:
    return msgpack.packb(data, use_bin_type=True)


def zmtp_subscribe(address: str, topics: list[bytes]) -> None:
    """Send ``topics`` as subscriptions over a bare ZMTP 3.0 connection, then close it.

    A pyzmq SUB socket keeps its own copy of every topic (about 48 bytes per
    byte, in libzmq's trie); this client keeps nothing, so a test can send
    topics of many megabytes and measure only the worker.
    """
    import socket
    import struct

    host, _, port = address.removeprefix("tcp://").rpartition(":")
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + bytes([3, 0]) + b"NULL".ljust(20, b"\x00")
    greeting += b"\x00" + b"\x00" * 31
    ready = b"\x05READY" + b"\x0bSocket-Type" + struct.pack(">I", 3) + b"SUB"
    with socket.create_connection((host.strip("[]"), int(port)), timeout=PATIENCE_S) as conn:
        conn.sendall(greeting)
        conn.sendall(b"\x04" + bytes([len(ready)]) + ready)
        for topic in topics:
            body = b"\x01" + topic
            head = (
                b"\x00" + bytes([len(body)])
                if len(body) < 256
                else (b"\x02" + struct.pack(">Q", len(body)))
            )
            try:
                conn.sendall(head + body)
            except OSError:  # the worker closed the connection: the point of the test
                return
