"""Every bound on what crosses the wire, in one frozen table.

A worker checks what clients send against :data:`LIMITS` at the edge (the
request socket, the events socket, `submit`) and refuses anything beyond a
limit with an error naming it; it never keeps what it refused. The same table
bounds what the worker sends back, so no reply or event can exceed the
client's :attr:`Limits.reply_bytes`. `docs/jobs.md` lists these values; a
test keeps the two equal.

>>> LIMITS.reply_bytes
1048576
>>> Limits(prompt_chars=4).check_text("prompt", "x" * 5, "prompt_chars")
Traceback (most recent call last):
...
dgx_pixels.errors.RequestError: prompt is 5 characters, over the limit of 4 (prompt_chars)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import msgspec

from dgx_pixels.errors import RequestError
from dgx_pixels.request import GenerationRequest

__all__ = ["LIMITS", "Limits", "markdown_table"]

_MiB = 1 << 20


def _limit(default: int, doc: str) -> Any:
    """A field of :class:`Limits` with its default and what it bounds."""
    return dataclasses.field(default=default, metadata={"doc": doc})


@dataclass(frozen=True, slots=True)
class Limits:
    """The worker's bounds on input and output; one instance, :data:`LIMITS`, is in force."""

    request_bytes: int = _limit(
        4 * _MiB,
        "Bytes of one request frame, input files included; up to twice this is answered "
        "`too_large`, anything bigger closes the connection unread.",
    )
    reply_bytes: int = _limit(
        1 * _MiB,
        "Bytes of one reply or event frame; clients refuse bigger ones.",
    )
    input_bytes: int = _limit(
        3 * _MiB,
        "Bytes of one input file (`init`, `mask`, `palette`, an animation's `from` sprite, "
        "a training file) sent with `submit`.",
    )
    dataset_files: int = _limit(
        1000,
        "Files of a training folder sent with a `train` submit (images and captions).",
    )
    prompt_chars: int = _limit(2000, "Characters of the prompt.")
    negative_chars: int = _limit(2000, "Characters of the negative prompt.")
    name_chars: int = _limit(
        256,
        "Characters of a name: model, scheduler, palette, LoRA id, dither, background.",
    )
    path_chars: int = _limit(
        512,
        "Characters of a path on the worker (`out`, `init`, `mask`, a LoRA file).",
    )
    loras: int = _limit(16, "LoRAs stacked by one request.")
    extra_bytes: int = _limit(4096, "Bytes of a request's `extra` map, msgpack-encoded.")
    error_chars: int = _limit(
        2000,
        "Characters of an error message in a reply, an event or a job record.",
    )
    page_jobs: int = _limit(
        1000,
        "Jobs in one `jobs` page (a page is also cut to fit `reply_bytes`).",
    )
    topic_bytes: int = _limit(
        64,
        "Bytes of an events-socket subscription topic; a longer one closes the "
        "subscriber's connection before it is read.",
    )
    queued_requests: int = _limit(16, "Requests a client may have queued unread on its connection.")
    priority: int = _limit(
        1000,
        "Largest priority of a job, either sign (`submit`, `reprioritise`).",
    )

    def check_text(self, name: str, value: str | None, limit: str) -> None:
        """Raise :class:`RequestError` when `value` is longer than the limit named `limit`."""
        most: int = getattr(self, limit)
        if value is not None and len(value) > most:
            raise RequestError(
                f"{name} is {len(value)} characters, over the limit of {most} ({limit})",
                option=name,
            )

    def check_bytes(self, name: str, size: int, limit: str, *, option: str | None = None) -> None:
        """Raise :class:`RequestError` when ``size`` bytes are over the limit named ``limit``."""
        most: int = getattr(self, limit)
        if size > most:
            raise RequestError(
                f"{name} is {size} bytes, over the limit of {most} ({limit})",
                option=option or name,
            )

    def check_request(self, request: GenerationRequest) -> None:
        """Every length of `request` within its limit (types are checked when it is made)."""
        self.check_text("prompt", request.prompt, "prompt_chars")
        self.check_text("negative", request.negative, "negative_chars")
        for name in ("model", "scheduler", "dither", "background", "palette"):
            self.check_text(name, getattr(request, name), "name_chars")
        for name in ("out", "init", "mask"):
            self.check_text(name, getattr(request, name), "path_chars")
        if len(request.loras) > self.loras:
            raise RequestError(
                f"{len(request.loras)} LoRAs, over the limit of {self.loras} (loras)",
                option="lora",
            )
        for lora in request.loras:
            self.check_text("lora", lora.id, "path_chars")
        try:
            size = len(msgspec.msgpack.encode(dict(request.extra)))
        except (TypeError, ValueError, OverflowError) as exc:
            raise RequestError(f"extra must be plain data: {exc}", option="extra") from None
        if size > self.extra_bytes:
            raise RequestError(
                f"extra is {size} bytes, over the limit of {self.extra_bytes} (extra_bytes)",
                option="extra",
            )

    def clip_error(self, message: str) -> str:
        """`message` cut to :attr:`error_chars` (an ellipsis marks the cut)."""
        if len(message) <= self.error_chars:
            return message
        return message[: self.error_chars - 1] + "…"


#: The limits in force.
LIMITS = Limits()


def markdown_table(limits: Limits = LIMITS) -> str:
    """The limits table of `docs/jobs.md` (`python -m dgx_pixels.jobs.limits`).

    A test checks that the document holds exactly this table.
    """
    rows = ["| limit | value | what it bounds |", "|---|---|---|"]
    for f in dataclasses.fields(limits):
        value: int = getattr(limits, f.name)
        shown = f"{value // _MiB} MiB" if value >= _MiB and value % _MiB == 0 else f"{value:,}"
        rows.append(f"| `{f.name}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
