"""Evaluate restore tools on real pixel art degraded the way generators draw it.

For every level (:mod:`dgx_pixels.metrics.degrade`) a seeded sample of real
sprites is degraded, restored by each tool and scored against the sprite:

- **size right**: the output is exactly the sprite's width x height;
- **colour**: when the size is right, the share of the sprite's opaque pixels
  (alpha 255) whose restored colour is within CIEDE2000 < 5 of the truth
  (a difference of 5 is clearly visible side by side; below about 2 it is not);
- **alpha**: when the size is right and the input kept its alpha, the share of
  pixels whose alpha (cut at 128) matches;
- **palette**: when the size is right, the *colour ratio* (distinct colours
  the output has on the sprite's opaque pixels, over the sprite's inks) and
  the *exact-ink* share (opaque pixels whose output colour snaps, nearest by
  CIEDE2000 among the sprite's colours, to the pixel's own ink). An *ink* is
  a group of the sprite's colours that no one can tell apart (within
  CIEDE2000 ``SAME_INK`` of the group's most used colour): DCSS sprites carry
  many colours one level apart, which no restore could, or should, keep apart;
- **time** per case, the tool's call only.

Separately, the **real** set: pictures that image generators made
(``tests/data/real-outputs``, sizes measured by hand, see its CREDITS.md),
scored on the size alone (right when within one cell of the true size on
each axis) and refusals.

Run it as ``python -m dgx_pixels.metrics.restore_eval --help``. Results are
cached per case in ``.eval-cache/`` so an interrupted run resumes.

>>> import numpy as np
>>> from PIL import Image
>>> truth = Image.new("RGBA", (4, 4), (255, 0, 0, 255))
>>> s = score_case(truth, truth, seconds=0.01, has_alpha=True)
>>> s.size_right, s.colour, s.alpha, s.colour_ratio, s.exact_ink
(True, 1.0, 1.0, 1.0, 1.0)
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
from dgx_pixels.metrics.degrade import LEVELS, Level, degrade, draw_params, truth
from dgx_pixels.pixel.color import ciede2000, srgb_to_lab

__all__ = [
    "DELTA_E",
    "INK_BAND",
    "SAME_INK",
    "CaseScore",
    "RealScore",
    "Summary",
    "load_sprites",
    "markdown_table",
    "real_table",
    "run",
    "run_real",
    "score_case",
    "summarise",
]

#: Colour threshold: a restored pixel is right when CIEDE2000 < DELTA_E.
DELTA_E = 5.0
#: Colours of a sprite closer than this (CIEDE2000, single link) are one ink.
SAME_INK = 2.3
#: A palette is recovered when the output's colour count is within this factor
#: of the sprite's ink count, either way.
INK_BAND = 1.3
#: Bump when what :func:`score_case` measures changes: cached scores are then redone.
SCORING = 2
#: The pixel modules our restore runs, so a change to them redoes our cached scores.
RESTORE_CODE = (
    "_axis.py",
    "_cells.py",
    "_inks.py",
    "grid.py",
    "restore.py",
    "color.py",
    "dither.py",
)
REAL = Path(__file__).resolve().parents[3] / "tests" / "data" / "real-outputs"
DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "dcss-rltiles"


@dataclass(frozen=True)
class CaseScore:
    """One tool on one case. ``colour`` and ``alpha`` are None when not scored."""

    size_right: bool
    colour: float | None
    alpha: float | None
    seconds: float
    error: str | None = None
    colour_ratio: float | None = None
    exact_ink: float | None = None


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
    colour_ratio: float | None = None  # median over cases with the size right
    in_band: float | None = None  # share of those with the ratio within INK_BAND
    exact_ink: float | None = None  # mean over cases with the size right


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
    colour = ratio = exact = None
    if opaque.any():
        got, want = out[opaque, :3], ref[opaque, :3]
        de = ciede2000(srgb_to_lab(got / 255.0), srgb_to_lab(want / 255.0))
        colour = float(np.mean(de < DELTA_E))
        ratio, exact = _palette_scores(got, want)
    alpha = float(np.mean((out[..., 3] >= 128) == (ref[..., 3] >= 128))) if has_alpha else None
    return CaseScore(True, colour, alpha, seconds, colour_ratio=ratio, exact_ink=exact)


def _palette_scores(got: np.ndarray, want: np.ndarray) -> tuple[float, float]:
    """Colour ratio and exact-ink share of output colours ``got`` against ``want`` (N, 3)."""
    colours, pixel_colour, used = np.unique(want, axis=0, return_inverse=True, return_counts=True)
    lab = srgb_to_lab(colours / 255.0)
    ink = _inks(lab, used)
    got_colours, got_index = np.unique(got, axis=0, return_inverse=True)
    nearest = np.argmin(ciede2000(srgb_to_lab(got_colours / 255.0)[:, None], lab[None, :]), axis=1)
    snapped = ink[nearest[got_index.reshape(-1)]]
    exact = float(np.mean(snapped == ink[pixel_colour.reshape(-1)]))
    return len(got_colours) / int(ink.max() + 1), exact


def _inks(lab: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Ink number of each colour: from the most used colour down, a colour further
    than SAME_INK from every ink so far starts one; each joins its nearest ink.

    No chains: a smooth gradient of 600 colours is as many inks as it has steps
    the eye tells apart, not one.
    """
    leaders: list[int] = []
    for i in np.argsort(-weight, kind="stable"):
        if not leaders or np.min(ciede2000(lab[leaders], lab[i])) >= SAME_INK:
            leaders.append(int(i))
    inks: np.ndarray = np.argmin(ciede2000(lab[:, None], lab[leaders][None, :]), axis=1)
    return inks


def _version(tool: str) -> str:
    """What a cached score depends on, besides the picture: the scoring and the tool's code."""
    from importlib.metadata import PackageNotFoundError, version

    from dgx_pixels.metrics._peers import SETTINGS

    here = Path(__file__).resolve().parent
    files = []
    if tool.startswith("dgx-pixels"):
        pixel = here.parent / "pixel"
        files += [pixel / n for n in RESTORE_CODE]
        tag = ""
    else:
        try:
            tag = version(tool)
        except PackageNotFoundError:
            tag = "?"
    digest = hashlib.sha1(f"{SCORING}|{tag}|{SETTINGS.get(tool, '')}".encode())
    for f in files:
        digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def _cache_key(tool: str, picture: Image.Image) -> str:
    """The tool's version and the degraded picture itself: a case is redone only
    when either changes (a new level or a change to another leaves it alone)."""
    digest = hashlib.sha1(f"{tool}|{_version(tool)}|{picture.mode}|{picture.size}".encode())
    digest.update(picture.tobytes())
    return digest.hexdigest()[:16]


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
            for _name, sprite, params in cases:
                big = degrade(sprite, params)
                key = _cache_key(tool, big)
                if key in stored:
                    scores.append(CaseScore(**stored[key]))  # type: ignore[arg-type]
                    continue
                start = time.perf_counter()
                try:
                    restored = fn(big)
                except Exception as exc:  # a peer's failure is a result, not a crash
                    seconds = time.perf_counter() - start
                    score = CaseScore(False, None, None, seconds, f"{type(exc).__name__}: {exc}")
                else:
                    seconds = time.perf_counter() - start
                    has_alpha = params.background is None
                    shown = truth(sprite, params)
                    score = score_case(restored, shown, seconds=seconds, has_alpha=has_alpha)
                scores.append(score)
                if cache_file is not None:
                    with cache_file.open("a") as f:
                        f.write(json.dumps({"key": key, **asdict(score)}) + "\n")
            results[(tool, level)] = scores
            if progress:
                print(summarise(tool, level, scores), file=sys.stderr, flush=True)
    return results


@dataclass(frozen=True)
class RealScore:
    """One tool on one real picture: the size it found (None on an error)."""

    image: str
    tool: str
    truth: tuple[int, int]
    size: tuple[int, int] | None
    seconds: float
    error: str | None = None

    @property
    def right(self) -> bool:
        """Within one cell of the true size on each axis."""
        return self.size is not None and all(
            abs(a - b) <= 1 for a, b in zip(self.size, self.truth, strict=True)
        )


def run_real(tools: Sequence[str], folder: Path = REAL) -> list[RealScore]:
    """Restore every picture of ``folder`` (listed in its ``sizes.json``) with every tool."""
    from dgx_pixels.metrics._peers import TOOLS

    sizes = json.loads((folder / "sizes.json").read_text())
    out = []
    for name, entry in sizes.items():
        with Image.open(folder / name) as im:
            picture = im.convert("RGBA") if im.mode in ("RGBA", "LA", "P") else im.convert("RGB")
        truth = (int(entry["size"][0]), int(entry["size"][1]))
        for tool in tools:
            start = time.perf_counter()
            try:
                restored = TOOLS[tool](picture)
            except Exception as exc:  # a refusal or a peer's failure is a result
                seconds = time.perf_counter() - start
                out.append(
                    RealScore(name, tool, truth, None, seconds, f"{type(exc).__name__}: {exc}")
                )
            else:
                seconds = time.perf_counter() - start
                out.append(RealScore(name, tool, truth, restored.size, seconds))
    return out


def real_table(scores: Sequence[RealScore]) -> str:
    """Per picture, each tool's size (bold when within one cell), then the totals."""
    tools = list(dict.fromkeys(s.tool for s in scores))
    images = list(dict.fromkeys(s.image for s in scores))
    by = {(s.image, s.tool): s for s in scores}
    lines = [
        "| picture | true size | " + " | ".join(tools) + " |",
        "|---|---|" + "---|" * len(tools),
    ]
    for image in images:
        cells = []
        for tool in tools:
            s = by[(image, tool)]
            text = "refused/error" if s.size is None else f"{s.size[0]}x{s.size[1]}"
            cells.append(f"**{text}**" if s.right else text)
        truth = by[(image, tools[0])].truth
        lines.append(f"| {image} | {truth[0]}x{truth[1]} | " + " | ".join(cells) + " |")
    totals = []
    for tool in tools:
        mine = [s for s in scores if s.tool == tool]
        right = sum(s.right for s in mine)
        errors = sum(s.error is not None for s in mine)
        ms = float(np.median([s.seconds for s in mine]) * 1000)
        totals.append(f"{right}/{len(mine)} right, {errors} refused/errors, {ms:.0f} ms")
    lines.append("| **all** | | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def summarise(tool: str, level: str, scores: Sequence[CaseScore]) -> Summary:
    """Aggregate one tool's scores on one level."""
    right = [s for s in scores if s.size_right]
    colours = [s.colour for s in right if s.colour is not None]
    alphas = [s.alpha for s in right if s.alpha is not None]
    all_colours = [(s.colour or 0.0) if s.size_right else 0.0 for s in scores]
    ratios = [s.colour_ratio for s in right if s.colour_ratio is not None]
    inks = [s.exact_ink for s in right if s.exact_ink is not None]
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
        colour_ratio=float(np.median(ratios)) if ratios else None,
        in_band=float(np.mean([1 / INK_BAND <= r <= INK_BAND for r in ratios])) if ratios else None,
        exact_ink=float(np.mean(inks)) if inks else None,
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def markdown_table(summaries: Iterable[Summary]) -> str:
    """The side-by-side table, one row per level and tool."""
    lines = [
        "| level | tool | cases | size right | colour (size right) | colour (all) "
        "| alpha (size right) | colour ratio | ratio within 1.3x | exact ink "
        "| errors | median time |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        ratio = "n/a" if s.colour_ratio is None else f"{s.colour_ratio:.2f}x"
        lines.append(
            f"| {s.level} | {s.tool} | {s.cases} | {_pct(s.size_right)} | {_pct(s.colour)} "
            f"| {_pct(s.colour_all)} | {_pct(s.alpha)} | {ratio} | {_pct(s.in_band)} "
            f"| {_pct(s.exact_ink)} | {s.failures} | {s.median_ms:.1f} ms |"
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
    parser.add_argument("--real", type=Path, default=REAL, help="folder of real generator outputs")
    parser.add_argument("--no-real", action="store_true", help="leave the real set out")
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
    text = f"Synthetic levels\n\n{table}\n\n"
    if not args.no_real:
        real = real_table(run_real(tools, args.real))
        text += f"Real generator outputs ({args.real})\n\n{real}\n\n"
    text += f"Machine: {machine()}. Colour threshold: CIEDE2000 < {DELTA_E:g}.\n"
    print(text)
    if args.out is not None:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
