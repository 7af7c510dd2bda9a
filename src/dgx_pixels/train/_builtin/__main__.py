"""``python -m dgx_pixels.train._builtin cache|train ...``: build the sprite cache, or train.

Not a ``dgx-pixels`` sub-command: it is for whoever (re)trains the built-in
model, and it exits with one error line and the error's exit code on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from dgx_pixels.errors import DgxPixelsError

_HELP = {
    "model": "network preset: full (ships) or tiny (tests)",
    "budget_s": "wall-clock seconds of training in this run",
    "max_steps": "stop after this many steps in total (0: only the budget stops)",
    "device": "cpu, cuda or cuda:N",
}


def _parser() -> argparse.ArgumentParser:
    from dgx_pixels.train._builtin.trainer import TrainConfig

    parser = argparse.ArgumentParser(prog="python -m dgx_pixels.train._builtin")
    sub = parser.add_subparsers(dest="command", required=True)
    cache = sub.add_parser("cache", help="read sprites, embed their captions, write the cache")
    cache.add_argument("--data", type=Path, required=True, help="folder of 32x32 PNG sprites")
    cache.add_argument("--cache", type=Path, required=True, help="the cache file to write")
    cache.add_argument("--heldout", type=float, default=0.05, help="fraction held out")
    train = sub.add_parser("train", help="train on a cache; resumes from OUT/checkpoint")
    train.add_argument("--cache", type=Path, required=True)
    train.add_argument("--out", type=Path, required=True, help="folder for checkpoint and results")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            train.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            train.add_argument(flag, type=kind, default=f.default, help=_HELP.get(f.name))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "cache":
            from dgx_pixels.engine._builtin._text import encode_prompts
            from dgx_pixels.train._builtin.data import read_sprites, write_cache

            sprites = read_sprites(args.data, heldout=args.heldout)
            path = write_cache(sprites, encode_prompts, args.cache)
            print(f"{path}: {len(sprites.paths)} sprites, {len(sprites.categories)} categories")
            return 0
        from dgx_pixels.train._builtin.trainer import TrainConfig, train

        config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
        report = train(config, args.cache, args.out)
        brief = {k: report[k] for k in ("steps", "steps_per_second", "val_v_loss_ema")}
        if "evaluation" in report:
            ev = report["evaluation"]
            brief |= {k: ev[k] for k in ("real_top1", "generated_top1", "nearest_generated",
                                         "nearest_real", "copies")}  # fmt: skip
        print(json.dumps(brief))
        return 0
    except DgxPixelsError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
