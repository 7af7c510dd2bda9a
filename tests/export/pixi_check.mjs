// Parse TexturePacker JSON (hash) with PixiJS's own Spritesheet, no renderer needed,
// and print each frame and animation as PixiJS sees it. Used by tests/export.
import { readFileSync } from "node:fs";
// PixiJS reads navigator at import; Node 20 has none (Node 21+ does).
globalThis.navigator ??= { userAgent: "node" };
const { Spritesheet, Texture, TextureSource } = await import("pixi.js");
const out = {};
for (const path of process.argv.slice(2)) {
  const data = JSON.parse(readFileSync(path, "utf8"));
  const source = new TextureSource({ width: data.meta.size.w, height: data.meta.size.h });
  const sheet = new Spritesheet(new Texture({ source }), data);
  await sheet.parse();
  const frames = {};
  for (const [name, t] of Object.entries(sheet.textures)) {
    frames[name] = { frame: [t.frame.x, t.frame.y, t.frame.width, t.frame.height],
                     orig: [t.orig.width, t.orig.height],
                     anchor: t.defaultAnchor ? [t.defaultAnchor.x, t.defaultAnchor.y] : null };
  }
  const animations = {};
  for (const [name, list] of Object.entries(sheet.animations)) {
    animations[name] = list.map((t) => Object.keys(sheet.textures).find((k) => sheet.textures[k] === t));
  }
  out[path] = { frames, animations };
}
console.log(JSON.stringify(out));
