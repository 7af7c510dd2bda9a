#!/usr/bin/env bash
# Train the built-in model builtin:sprites-32 for a fixed wall time on one GPU.
#
#   bash examples/train_builtin.sh OUT_DIR [extra trainer flags...]
#   bash examples/train_builtin.sh --ship FILES_DIR
#
# The first form trains on the sprite cache ($CACHE, built on any machine with
# `python -m dgx_pixels.train._builtin cache`), resuming from $RUN_DIR's
# checkpoint when there is one, for $BUDGET_S seconds, then samples a grid and
# evaluates. OUT_DIR receives only what a device call can bring back (at most
# 8 files of 16 MiB): the log, report.json, samples.png, and the fp16 weights
# in 15 MiB parts with their sha256. The checkpoint (with optimizer state)
# stays in $RUN_DIR.
#
# The second form joins the parts in FILES_DIR, checks the sha256, and puts
# the weights where the package ships them.
#
# Settings (environment): CACHE (.builtin/dcss-cache.safetensors), RUN_DIR
# (/tmp/builtin-run), BUDGET_S (420), DEVICE (cuda; cpu drops the GPU flags),
# PYTHON (python3), SHIP_TO (the packaged weights path). See docs/builtin-model.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SHIPPED=${SHIP_TO:-src/dgx_pixels/engine/_builtin/weights/sprites-32.safetensors}

if [[ "${1:-}" == "--ship" ]]; then
    files=${2:?usage: $0 --ship FILES_DIR}
    mkdir -p "$(dirname "$SHIPPED")"
    cat "$files"/sprites-32.safetensors.part* > "$SHIPPED.tmp"
    want=$(cut -d' ' -f1 "$files/sprites-32.safetensors.sha256")
    got=$(sha256sum "$SHIPPED.tmp" | cut -d' ' -f1)
    if [[ "$want" != "$got" ]]; then
        rm -f "$SHIPPED.tmp"
        echo "error: the joined weights' sha256 is $got, the run wrote $want" >&2
        exit 1
    fi
    mv "$SHIPPED.tmp" "$SHIPPED"
    echo "$SHIPPED: $(du -h "$SHIPPED" | cut -f1), sha256 $got"
    exit 0
fi

out=${1:?usage: $0 OUT_DIR [trainer flags...]}
shift
CACHE=${CACHE:-.builtin/dcss-cache.safetensors}
RUN_DIR=${RUN_DIR:-/tmp/builtin-run}
BUDGET_S=${BUDGET_S:-420}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1

gpu_flags=()
if [[ "$DEVICE" == cuda* ]]; then
    gpu_flags=(--bf16 --channels-last --compile)
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
mkdir -p "$out" "$RUN_DIR"
set -o pipefail
"$PYTHON" -m dgx_pixels.train._builtin train --cache "$CACHE" --out "$RUN_DIR" \
    --budget-s "$BUDGET_S" --device "$DEVICE" "${gpu_flags[@]}" "$@" 2>&1 | tee "$out/train.log"

cp "$RUN_DIR/report.json" "$RUN_DIR/samples.png" "$out/"
sha256sum "$RUN_DIR/sprites-32.safetensors" > "$out/sprites-32.safetensors.sha256"
split -b 15M -d "$RUN_DIR/sprites-32.safetensors" "$out/sprites-32.safetensors.part"
ls -l "$out"
