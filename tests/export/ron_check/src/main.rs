//! Parse our RON files with the `ron` crate, into the same shapes Bevy and
//! bevy_asset_loader deserialize them into, and print each as JSON (from
//! `ron::Value`) so the Python tests can check the values.
//!
//! The types below mirror, field for field, those of Bevy 0.18
//! (`bevy_asset::meta::AssetMeta`, `bevy_image::ImageLoaderSettings`,
//! `ImageSamplerDescriptor`) and bevy_asset_loader 0.26
//! (`StandardDynamicAsset`), with `deny_unknown_fields` so a misspelt field
//! fails here instead of being ignored; `Clips` is the struct docs/export.md
//! shows game code.

use serde::{Deserialize, Deserializer};
use std::collections::HashMap;

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetMeta {
    meta_format_version: String,
    asset: AssetAction,
}

#[allow(dead_code)]
#[derive(Deserialize)]
enum AssetAction {
    Load { loader: String, settings: ImageLoaderSettings },
}

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageLoaderSettings {
    format: ImageFormatSetting,
    is_srgb: bool,
    sampler: ImageSampler,
    asset_usage: RenderAssetUsages,
}

#[derive(Deserialize)]
enum ImageFormatSetting {
    FromExtension,
    Guess,
}

#[allow(dead_code)]
#[derive(Deserialize)]
enum ImageSampler {
    Default,
    Descriptor(ImageSamplerDescriptor),
}

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageSamplerDescriptor {
    label: Option<String>,
    address_mode_u: ImageAddressMode,
    address_mode_v: ImageAddressMode,
    address_mode_w: ImageAddressMode,
    mag_filter: ImageFilterMode,
    min_filter: ImageFilterMode,
    mipmap_filter: ImageFilterMode,
    lod_min_clamp: f32,
    lod_max_clamp: f32,
    compare: Option<String>,
    anisotropy_clamp: u16,
    border_color: Option<String>,
}

#[derive(Deserialize)]
enum ImageAddressMode {
    ClampToEdge,
    Repeat,
    MirrorRepeat,
    ClampToBorder,
}

#[derive(Deserialize, Debug, PartialEq)]
enum ImageFilterMode {
    Nearest,
    Linear,
}

#[derive(Deserialize)]
struct RenderAssetUsages(String);

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
enum StandardDynamicAsset {
    File {
        path: String,
    },
    TextureAtlasLayout {
        tile_size_x: u32,
        tile_size_y: u32,
        columns: u32,
        rows: u32,
        #[serde(default, deserialize_with = "plain")]
        padding_x: Option<u32>,
        #[serde(default, deserialize_with = "plain")]
        padding_y: Option<u32>,
        #[serde(default, deserialize_with = "plain")]
        offset_x: Option<u32>,
        #[serde(default, deserialize_with = "plain")]
        offset_y: Option<u32>,
    },
}

// bevy_asset_loader's `optional`: the value is written plainly, not as Some(..).
fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(Some(u32::deserialize(d)?))
}

#[derive(Deserialize)]
struct StandardDynamicAssetCollection(#[allow(dead_code)] HashMap<String, StandardDynamicAsset>);

// The game-side structs of docs/export.md, exactly as shown there.
#[allow(dead_code)]
#[derive(Deserialize)]
struct DocClips {
    clips: HashMap<String, DocClip>,
}

#[allow(dead_code)]
#[derive(Deserialize, Clone)]
struct DocClip {
    first: usize,
    last: usize,
    fps: f32,
    looping: bool,
}

// Every field a clips file has.
#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clips {
    image: String,
    clips: HashMap<String, Clip>,
}

#[allow(dead_code)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Clip {
    first: usize,
    last: usize,
    fps: f32,
    looping: bool,
    direction: String,
    frames: Vec<usize>,
    durations_ms: Vec<u32>,
}

fn typed(path: &str, text: &str) -> Result<(), String> {
    if path.ends_with(".meta") {
        let meta: AssetMeta = ron::from_str(text).map_err(|err| format!("{path}: {err}"))?;
        let AssetAction::Load { settings, .. } = meta.asset;
        for flag in settings.asset_usage.0.split('|') {
            if !["MAIN_WORLD", "RENDER_WORLD"].contains(&flag.trim()) {
                return Err(format!("{path}: unknown RenderAssetUsages flag {flag:?}"));
            }
        }
        if let ImageSampler::Descriptor(d) = settings.sampler {
            if d.mag_filter != ImageFilterMode::Nearest || d.min_filter != ImageFilterMode::Nearest {
                return Err(format!("{path}: the sampler is not nearest"));
            }
        }
    } else if path.ends_with(".assets.ron") {
        let _: StandardDynamicAssetCollection = ron::from_str(text).map_err(|err| format!("{path}: {err}"))?;
    } else if path.ends_with(".clips.ron") {
        let _: Clips = ron::from_str(text).map_err(|err| format!("{path}: {err}"))?;
        let _: DocClips = ron::from_str(text).map_err(|err| format!("{path}: {err}"))?;
    }
    Ok(())
}

fn json(v: &ron::Value, out: &mut String) {
    use ron::Value::*;
    match v {
        Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Char(c) => json(&String(c.to_string()), out),
        Number(n) => match n {
            ron::Number::Integer(i) => out.push_str(&i.to_string()),
            ron::Number::Float(f) => out.push_str(&format!("{:?}", f.get())),
        },
        Option(None) | Unit => out.push_str("null"),
        Option(Some(inner)) => json(inner, out),
        String(s) => {
            out.push('"');
            for ch in s.chars() {
                match ch {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(item, out);
            }
            out.push(']');
        }
        Map(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let mut key = std::string::String::new();
                json(k, &mut key);
                if !key.starts_with('"') {
                    key = format!("\"{key}\"");
                }
                out.push_str(&key);
                out.push(':');
                json(item, out);
            }
            out.push('}');
        }
    }
}

fn main() {
    let mut out = String::from("{");
    let mut failed = false;
    for (i, path) in std::env::args().skip(1).enumerate() {
        let text = std::fs::read_to_string(&path).expect("readable file");
        if let Err(err) = typed(&path, &text) {
            eprintln!("{err}");
            failed = true;
            continue;
        }
        let value: ron::Value = match ron::from_str(&text) {
            Ok(v) => v,
            Err(err) => {
                eprintln!("{path}: {err}");
                failed = true;
                continue;
            }
        };
        if i > 0 {
            out.push(',');
        }
        json(&ron::Value::String(path.clone()), &mut out);
        out.push(':');
        json(&value, &mut out);
    }
    out.push('}');
    println!("{out}");
    std::process::exit(if failed { 1 } else { 0 });
}
