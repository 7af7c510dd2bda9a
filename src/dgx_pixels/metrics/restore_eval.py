"""Evaluate restore tools on real pixel art degraded the way generators draw it.

For every level (:mod:`dgx_pixels.metrics.degrade`) a seeded sample of real
sprites is degraded, restored by each tool and scored against the sprite:

- **size right**: the output is exactly the sprite's width x height;
- **colour**: when the size is right, the share of the sprite's opaque pixels
  (alpha 255) whose restored colour is within CIEDE2000 < 5 of the truth
  (a difference of 5 is clearly visible side by side; below about 2 it is not);
- **alpha**: when the size is right and the input kept its alpha, the share of
  pixels whose alpha (cut at 128) matches;
- **time** per case, the tool's call only.

Run it as ``python -m dgx_pixels.metrics.restore_eval --help``. Results are
cached per case in ``.eval-cache/`` so an interrupted run resumes.

>>> import numpy as np
>>> from PIL import Image
>>> truth = Image.new("RGBA", (4, 4), (255, 0, 0, 255))
>>> s = score_case(truth, truth, seconds=0.01, has_alpha=True)
>>> s.size_right, s.colour, s.alpha
(True, 1.0, 1.0)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from dgx_pixels.metrics._machine import machine
from dgx_pixels.metrics.degrade import LEVELS, Level, degrade, draw_params
from dgx_pixels.pixel.color import ciede2000, srgb_to_lab

__all__ = [
    "DELTA_E",
    "CaseScore",
    "Summary",
    "load_sprites",
    "markdown_table",
    "run",
    "score_case",
    "summarise",
]

#: Colour threshold: a restored pixel is right when CIEDE2000 < DELTA_E.
DELTA_E = 5.0
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "dcss-rltiles"


@dataclass(frozen=True)
class CaseScore:
    """One tool on one case. ``colour`` and ``alpha`` are None when not scored."""

    size_right: bool
    colour: float | None
    alpha: float | None
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class Summary:
    """One tool on one level."""

    tool: str
    level: str
    cases: int
    size_right: float
    colour: float | None  # mean over cases with the size right
    colour_all: float  # mean over all cases, 0 when the size is wrong
    alpha: float | None
    failures: int  # exceptions and refusals
    median_ms: float


def load_sprites(root: Path, count: int, seed: int) -> list[tuple[str, Image.Image]]:
    """A seeded sample of ``count`` 32x32 sprites under ``root``.

    Hidden files and files that are not images are skipped, and so are sprites
    with fewer than 10 % opaque pixels or fewer than 4 colours (mostly
    empty effect frames) are skipped: there is no grid in them to find.
    """
    files = sorted(p for p in root.rglob("*.png") if p.is_file() and not p.name.startswith("."))
    order = np.random.default_rng(seed).permutation(len(files))
    out: list[tuple[str, Image.Image]] = []
    for i in order:
        try:
            with Image.open(files[i]) as im:
                sprite = im.convert("RGBA")
        except OSError:  # not an image after all (there are a few): not a sprite
            continue
        if sprite.size != (32, 32):
            continue
        a = np.asarray(sprite)
        if (a[..., 3] == 255).mean() < 0.1 or len(np.unique(a.reshape(-1, 4), axis=0)) < 4:
            continue
        out.append((str(files[i].relative_to(root)), sprite))
        if len(out) == count:
            break
    return out


def score_case(
    restored: Image.Image, truth: Image.Image, *, seconds: float, has_alpha: bool
) -> CaseScore:
    """Score one restored sprite against the true one."""
    if restored.size != truth.size:
        return CaseScore(False, None, None, seconds)
    out = np.asarray(restored.convert("RGBA"))
    ref = np.asarray(truth.convert("RGBA"))
    opaque = ref[..., 3] == 255
    colour = None
    if opaque.any():
        de = ciede2000(srgb_to_lab(out[opaque, :3] / 255.0), srgb_to_lab(ref[opaque, :3] / 255.0))
        colour = float(np.mean(de < DELTA_E))
    alpha = float(np.mean((out[..., 3] >= 128) == (ref[..., 3] >= 128))) if has_alpha else None
    return CaseScore(True, colour, alpha, seconds)


def _version(tool: str) -> str:
    """What a cached score depends on: the degradation and the tool's code."""
    from importlib.metadata import PackageNotFoundError, version

    from dgx_pixels.metrics._peers import SETTINGS

    here = Path(__file__).resolve().parent
    files = [here / "degrade.py"]
    if tool == "dgx-pixels":
        pixel = here.parent / "pixel"
        files += [pixel / n for n in ("_axis.py", "_cells.py", "grid.py", "restore.py")]
        tag = ""
    else:
        try:
            tag = version(tool)
        except PackageNotFoundError:
            tag = "?"
    digest = hashlib.sha1(f"{tag}|{SETTINGS.get(tool, '')}".encode())
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def _cache_key(tool: str, level: str, name: str, index: int, seed: int) -> str:
    raw = f"{tool}|{_version(tool)}|{level}|{name}|{index}|{seed}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def run(
    tools: Sequence[str],
    levels: Sequence[Level],
    sprites: Sequence[tuple[str, Image.Image]],
    *,
    seed: int = 0,
    cache: Path | None = None,
    progress: bool = False,
) -> dict[tuple[str, str], list[CaseScore]]:
    """Score every tool on every case; returns ``{(tool, level): scores}``."""
    from dgx_pixels.metrics._peers import TOOLS

    stored: dict[str, dict[str, object]] = {}
    cache_file = None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        cache_file = cache / "scores.jsonl"
        if cache_file.exists():
            for line in cache_file.read_text().splitlines():
                row = json.loads(line)
                stored[row.pop("key")] = row
    results: dict[tuple[str, str], list[CaseScore]] = {}
    for level in levels:
        rng = np.random.default_rng([seed, LEVELS.index(level)])
        cases = []
        for name, sprite in sprites:
            params = draw_params(level, sprite.width, sprite.height, rng)
            cases.append((name, sprite, params))
        for tool in tools:
            fn = TOOLS[tool]
            scores: list[CaseScore] = []
            for index, (name, sprite, params) in enumerate(cases):
                key = _cache_key(tool, level, name, index, seed)
                if key in stored:
                    scores.append(CaseScore(**stored[key]))  # type: ignore[arg-type]
                    continue
                big = degrade(sprite, params)
                start = time.perf_counter()
                try:
                    restored = fn(big)
                except Exception as exc:  # a peer's failure is a result, not a crash
                    seconds = time.perf_counter() - start
                    score = CaseScore(False, None, None, seconds, f"{type(exc).__name__}: {exc}")
                else:
                    seconds = time.perf_counter() - start
                    has_alpha = params.background is None
                    score = score_case(restored, sprite, seconds=seconds, has_alpha=has_alpha)
                scores.append(score)
                if cache_file is not None:
                    with cache_file.open("a") as f:
                        f.write(json.dumps({"key": key, **asdict(score)}) + "\n")
            results[(tool, level)] = scores
            if progress:
                print(summarise(tool, level, scores), file=sys.stderr, flush=True)
    return results


def summarise(tool: str, level: str, scores: Sequence[CaseScore]) -> Summary:
    """Aggregate one tool's scores on one level."""
    right = [s for s in scores if s.size_right]
    colours = [s.colour for s in right if s.colour is not None]
    alphas = [s.alpha for s in right if s.alpha is not None]
    all_colours = [(s.colour or 0.0) if s.size_right else 0.0 for s in scores]
    return Summary(
        tool=tool,
        level=level,
        cases=len(scores),
        size_right=len(right) / len(scores) if scores else 0.0,
        colour=float(np.mean(colours)) if colours else None,
        colour_all=float(np.mean(all_colours)) if all_colours else 0.0,
        alpha=float(np.mean(alphas)) if alphas else None,
        failures=sum(s.error is not None for s in scores),
        median_ms=float(np.median([s.seconds for s in scores]) * 1000) if scores else 0.0,
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def markdown_table(summaries: Iterable[Summary]) -> str:
    """The side-by-side table, one row per level and tool."""
    lines = [
        "| level | tool | cases | size right | colour (size right) | colour (all) "
        "| alpha (size right) | errors | median time |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.level} | {s.tool} | {s.cases} | {_pct(s.size_right)} | {_pct(s.colour)} "
            f"| {_pct(s.colour_all)} | {_pct(s.alpha)} | {s.failures} | {s.median_ms:.1f} ms |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: run the evaluation, print the table (and write it with --out)."""
    parser = argparse.ArgumentParser(
        prog="python -m dgx_pixels.metrics.restore_eval", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=DATA, help="folder of true sprites")
    parser.add_argument("-n", "--cases", type=int, default=300, help="sprites per level")
    parser.add_argument("--levels", default=",".join(LEVELS))
    parser.add_argument("--tools", default="dgx-pixels,proper-pixel-art,perfect-pixel,unfake")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=Path(".eval-cache"))
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)

    # One core for every tool, so times compare (OpenCV and BLAS would spread).
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass

    levels = [lv for lv in LEVELS if lv in args.levels.split(",")]
    tools = args.tools.split(",")
    sprites = load_sprites(args.data, args.cases, args.seed)
    results = run(tools, levels, sprites, seed=args.seed, cache=args.cache, progress=True)
    table = markdown_table(summarise(t, lv, results[(t, lv)]) for lv in levels for t in tools)
    text = f"{table}\n\nMachine: {machine()}. Colour threshold: CIEDE2000 < {DELTA_E:g}.\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
