"""Compare votes: stored in SQLite in the data dir, reported as win rates with Wilson intervals.

A comparison is one prompt and one run of seeds drawn by 2-4 variants (each a
label such as ``steps=8 lora=style:0.8``). The user votes per row (seed) for
the best variant, or a tie. :func:`report` counts, per prompt and overall, how
often each variant won the rows it was in, with a 95 % Wilson score interval
(a tie is a row no variant won). :func:`export` writes the report as CSV and
JSON.

>>> low, high = wilson_interval(8, 10)
>>> round(low, 3), round(high, 3)
(0.49, 0.943)
"""

from __future__ import annotations

import csv
import io
import json
import math
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from dgx_pixels.errors import InputError
from dgx_pixels.image_files import write_atomic

__all__ = [
    "TIE",
    "VoteStore",
    "WinRate",
    "export",
    "wilson_interval",
]

TIE = -1
Z_95 = 1.959963984540054
MAX_VARIANTS = 4
_SCHEMA = """
CREATE TABLE IF NOT EXISTS comparisons (
    id INTEGER PRIMARY KEY,
    created REAL NOT NULL,
    prompt TEXT NOT NULL,
    seeds TEXT NOT NULL,
    variants TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    comparison INTEGER NOT NULL REFERENCES comparisons(id),
    row INTEGER NOT NULL,
    winner INTEGER NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (comparison, row)
);
"""


def wilson_interval(wins: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of ``wins`` out of ``n`` (``(0, 1)`` when ``n`` is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = wins / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class WinRate:
    """How one variant did on one prompt (or overall, ``prompt == "*"``)."""

    prompt: str
    variant: str
    rows: int
    wins: int
    ties: int
    rate: float
    low: float
    high: float


class VoteStore:
    """The comparisons and votes in ``<data dir>/compare.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=5.0)) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            yield db

    def new_comparison(self, prompt: str, seeds: Sequence[int], variants: Sequence[str]) -> int:
        """Record a comparison; its id."""
        if not 2 <= len(variants) <= MAX_VARIANTS:
            raise InputError(f"compare 2 to {MAX_VARIANTS} variants, got {len(variants)}")
        if len(set(variants)) != len(variants):
            raise InputError(f"variants must differ, got {list(variants)}")
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO comparisons (created, prompt, seeds, variants) VALUES (?, ?, ?, ?)",
                (time.time(), prompt, json.dumps(list(seeds)), json.dumps(list(variants))),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def vote(self, comparison: int, row: int, winner: int) -> None:
        """Vote ``winner`` (a variant index, or :data:`TIE`) for ``row``; a new vote replaces."""
        with self._db() as db:
            found = db.execute(
                "SELECT seeds, variants FROM comparisons WHERE id = ?", (comparison,)
            ).fetchone()
            if found is None:
                raise InputError(f"no comparison {comparison}")
            seeds, variants = json.loads(found[0]), json.loads(found[1])
            if not 0 <= row < len(seeds):
                raise InputError(f"row must be between 0 and {len(seeds) - 1}, got {row}")
            if winner != TIE and not 0 <= winner < len(variants):
                raise InputError(f"winner must be a variant 0-{len(variants) - 1} or a tie")
            db.execute(
                "INSERT OR REPLACE INTO votes (comparison, row, winner, created) "
                "VALUES (?, ?, ?, ?)",
                (comparison, row, winner, time.time()),
            )

    def votes(self, comparison: int) -> dict[int, int]:
        """``row -> winner`` of one comparison."""
        with self._db() as db:
            rows = db.execute(
                "SELECT row, winner FROM votes WHERE comparison = ?", (comparison,)
            ).fetchall()
        return {int(r): int(w) for r, w in rows}

    def report(self) -> list[WinRate]:
        """Win rates per prompt and variant, then overall per variant (``prompt="*"``)."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.prompt, c.variants, v.winner FROM votes v "
                "JOIN comparisons c ON c.id = v.comparison ORDER BY c.prompt"
            ).fetchall()
        tally: dict[tuple[str, str], list[int]] = {}
        for prompt, variants_text, winner in rows:
            variants = json.loads(variants_text)
            for index, variant in enumerate(variants):
                for key in ((prompt, variant), ("*", variant)):
                    counts = tally.setdefault(key, [0, 0, 0])  # rows, wins, ties
                    counts[0] += 1
                    counts[1] += int(winner == index)
                    counts[2] += int(winner == TIE)
        out = []
        for (prompt, variant), (n, wins, ties) in sorted(
            tally.items(), key=lambda kv: (kv[0][0] == "*", kv[0][0], kv[0][1])
        ):
            low, high = wilson_interval(wins, n)
            out.append(WinRate(prompt, variant, n, wins, ties, wins / n, low, high))
        return out


def export(rates: Sequence[WinRate], folder: Path) -> tuple[Path, Path]:
    """Write ``compare-report.csv`` and ``.json`` into ``folder`` (replacing the last report)."""
    fields = list(WinRate.__dataclass_fields__)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for rate in rates:
        writer.writerow(asdict(rate))
    document = {"confidence": 0.95, "interval": "wilson", "rates": [asdict(r) for r in rates]}
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = write_atomic(buf.getvalue().encode(), folder / "compare-report.csv", force=True)
    json_path = write_atomic(
        (json.dumps(document, indent=2) + "\n").encode(), folder / "compare-report.json", force=True
    )
    return csv_path, json_path
