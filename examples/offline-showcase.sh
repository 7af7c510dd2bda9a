#!/usr/bin/env bash
# What dgx-pixels does without a generation model: the pixel toolkit on real
# examples (DCSS sprites drawn the way AI generators draw "pixel art").
# Usage: examples/offline-showcase.sh [DGX_PIXELS_BIN] [OUT_DIR]
set -euo pipefail
bin=${1:-dgx-pixels}
out=${2:-outputs/showcase}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

echo "Restore: AI-style pictures (~1000 px, blurry uneven cells, noise, JPEG, flat background)"
echo "back to the true 32x32 sprites, background removed."
for name in hell_knight fire_dragon; do
  step "$bin" restore "$here/$name-ai.png" -o "$out/$name.png" --background transparent --preview 8 --force
done

echo
echo "Palettes: the knight locked to Endesga 32, and a 12-colour palette extracted from the dragon."
step "$bin" restore "$here/hell_knight-ai.png" -o "$out/hell_knight-endesga32.png" \
  --background transparent --palette endesga-32 --force
step "$bin" palette extract "$out/fire_dragon.png" -n 12 -o "$out/fire_dragon.hex" --force

echo
echo "Pixelize: the same picture downscaled to 24x24 (contrast-aware, keeps thin dark lines)."
step "$bin" pixelize "$here/hell_knight-ai.png" --size 24 --palette "$out/fire_dragon.hex" \
  --background transparent --preview 8 -o "$out/hell_knight-24.png" --force

echo
echo "Sets, no model needed: a hit-flash animation of the knight, a blob47 autotile set from an"
echo "A2-style template of DCSS sand and grass, and both exported for Tiled and Bevy."
step "$bin" animate --from "$here/hell_knight.png" --effect hit-flash --out "$out" --force
step "$bin" tileset --from-template "$here/sand-grass-a2.png" --layout blob47 --out "$out" --force
step "$bin" export "$out/sand-grass-a2-blob47" --to tiled -o "$out/tiled" --force
mkdir -p "$out/bevy-game"  # a game project is a folder that exists
step "$bin" export "$out/hell-knight-hit-flash" "$out/sand-grass-a2-blob47" --to bevy \
  --project "$out/bevy-game" --force

echo
echo "Everything is in $out/ (the *-preview.png files are 8x nearest-neighbour previews)."
