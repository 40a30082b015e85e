#!/usr/bin/env bash
# Checks prebuilds/linux-arm64 on an x86-64 machine: its ELF header and DT_NEEDED (ldd cannot run a
# cross-built library: no libav*/x264/libyuv, and every entry present in Debian's arm64 libc/libstdc++),
# its exports, and then, under qemu-user with Debian's arm64 Node, that node-gyp-build picks it,
# that it encodes a short clip (one tiny rendition, ffprobe on the host decodes the segment), and that
# its frames match an x86-64 build of the same sources: the RGB-to-YUV conversion byte for byte,
# swscale's scaled renditions (NEON against x86 SIMD rows) within 1 code value.
#   bash scripts/install-arm64-node.sh && bash scripts/test-arm64-prebuild.sh
# Exit 0: all passed; 1: a check failed; 3: qemu-aarch64 or the arm64 node is missing (nothing ran).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
prebuild="prebuilds/linux-arm64/abrcast.glibc.node"
arm64_root="$root/.tools/arm64-root"
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -f "$prebuild" ] || fail "$prebuild is absent (scripts/build-ffmpeg.sh --arch arm64, then scripts/prebuild.sh --arch arm64)"

machine=$(readelf -h "$prebuild" | sed -n 's/^ *Machine: *//p')
[ "$machine" = "AArch64" ] || fail "$prebuild is built for '$machine', expected AArch64"
needed=$(readelf -d "$prebuild" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "NEEDED: $(echo $needed)"
if echo "$needed" | grep -Eq 'lib(avcodec|avformat|avfilter|avutil|swscale|swresample|x264|yuv)\b'; then
  fail "$prebuild needs a shared FFmpeg/x264/libyuv library: $(echo $needed)"
fi
echo "$needed" | grep -qx 'libc.so.6' || fail "DT_NEEDED looks wrong (no libc.so.6): $(echo $needed)"
exported=$(readelf -W --dyn-syms "$prebuild" | awk '$5 == "GLOBAL" && $7 != "UND" {print $8}' | sed 's/@.*//' | sort -u)
[ "$(echo $exported)" = "napi_register_module_v1 node_api_module_get_api_version_v1" ] ||
  fail "expected only the Node-API entry points as exports, got: $(echo $exported)"

if ! command -v qemu-aarch64 >/dev/null 2>&1 || [ ! -x "$arm64_root/usr/bin/node" ]; then
  echo "SKIP: qemu-aarch64 or the arm64 node is missing (bash scripts/install-arm64-node.sh); static checks passed"
  exit 3
fi
# The loader the addon asks for must find each DT_NEEDED in Debian's arm64 libraries (ldd's "not found").
for lib in $needed; do
  [ -e "$arm64_root/lib/aarch64-linux-gnu/$lib" ] || [ -e "$arm64_root/usr/lib/aarch64-linux-gnu/$lib" ] ||
    fail "$lib (DT_NEEDED) is not in Debian 12's arm64 libraries"
done
arm64_node() { qemu-aarch64 -L "$arm64_root" "$arm64_root/usr/bin/node" "$@"; }
echo "arm64 node $(arm64_node --version) under $(qemu-aarch64 --version | head -1)"

[ -f dist/encoder/ladder-encoder.js ] || npm run build:ts >/dev/null || fail "npm run build:ts failed"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# node-gyp-build resolves the prebuild as an installed package would (here build/ holds the x64 source build).
mkdir -p "$work/package/prebuilds" && cp -r prebuilds/linux-arm64 "$work/package/prebuilds/"

# One script for both machines: the frames each rendition's encoder gets (previewLadderFrame), as files.
cat >"$work/frames.mjs" <<'JS'
import { writeFileSync } from 'node:fs';
const [dist, out] = process.argv.slice(2);
const { previewLadderFrame } = await import(`${dist}/encoder/ladder-preview.js`);
const width = 98, height = 54;  // odd chroma column and an uneven scale
const renditions = [{ name: 'original', width, height, bitrate: 300 }, { name: 'small', width: 64, height: 36, bitrate: 100 }];
for (const pixelFormat of ['rgb24', 'rgba', 'bgra']) {
  const bpp = pixelFormat === 'rgb24' ? 3 : 4;
  const frame = Buffer.alloc(width * height * bpp);
  for (let i = 0; i < frame.length; i++) frame[i] = (i * 7 + ((i / (width * bpp)) | 0) * 13) & 255;
  for (const f of await previewLadderFrame({ width, height, fps: 30, pixelFormat, renditions }, frame)) {
    writeFileSync(`${out}/${pixelFormat}-${f.name}-${f.width}x${f.height}.yuv`, f.data);
  }
}
JS
# The x86-64 reference must be built from the same sources: the linux-x64 prebuild when its hash is
# current, else the source build in build/Release when no native source is newer than it.
sources_hash=$(bash scripts/native-sources-hash.sh)
x64_addon=""
if [ "$(uname -m)" = x86_64 ]; then
  if grep -q "native sources: $sources_hash" prebuilds/linux-x64/BUILD-INFO.txt 2>/dev/null; then
    x64_addon="$root/prebuilds/linux-x64/abrcast.glibc.node"
  elif [ -f build/Release/abrcast.node ] && [ -z "$(find native CMakeLists.txt -newer build/Release/abrcast.node -type f | head -1)" ]; then
    x64_addon="$root/build/Release/abrcast.node"
  fi
fi
mkdir -p "$work/x64" "$work/arm64"
if [ -n "$x64_addon" ]; then
  echo "x86-64 reference: ${x64_addon#"$root/"}"
  ABRCAST_NATIVE_PATH="$x64_addon" node "$work/frames.mjs" "$root/dist" "$work/x64"
else
  echo "x86-64 reference: none built from the current sources (stale prebuilds/linux-x64, no current build/Release); frames not compared"
fi

cat >"$work/encode.mjs" <<'JS'
import { createRequire } from 'node:module';
const [dist, pkg, out, frames] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const addonPath = require(`${process.cwd()}/node_modules/node-gyp-build`).path(pkg);
process.env.ABRCAST_NATIVE_PATH = addonPath;
const { LadderEncoder } = await import(`${dist}/encoder/ladder-encoder.js`);
const width = 96, height = 64;
const encoder = new LadderEncoder({ width, height, fps: 10, segmentDuration: 1, encoder: 'x264', x264Preset: 'ultrafast',
  renditions: [{ name: 'tiny', width, height, bitrate: 100 }], outputDir: out });
const segments = [];
encoder.on('segment', (s) => segments.push({ rendition: s.rendition, index: s.index, bytes: s.bytes, path: s.path }));
for (let i = 0; i < Number(frames); i++) {
  const frame = Buffer.alloc(width * height * 3);
  for (let p = 0; p < frame.length; p += 3) { frame[p] = (p / 3 + i * 9) & 255; frame[p + 1] = i * 20; frame[p + 2] = 128; }
  await encoder.write(frame);
}
const summary = await encoder.close();
console.log(JSON.stringify({ arch: process.arch, node: process.version, addonPath, frames: summary.frames, segments }));
JS
frames=10
started=$(date +%s)
ABRCAST_NATIVE_PATH= arm64_node "$work/encode.mjs" "$root/dist" "$work/package" "$work/segments" "$frames" >"$work/encode.json" ||
  fail "the arm64 node could not load the prebuild or encode with it"
echo "encode under qemu: $(cat "$work/encode.json") ($(( $(date +%s) - started ))s)"
ABRCAST_NATIVE_PATH="$work/package/$prebuild" arm64_node "$work/frames.mjs" "$root/dist" "$work/arm64" ||
  fail "previewLadderFrame failed under qemu"

# The JSON's claims, then ffprobe (x86-64, Debian's FFmpeg) judges the bytes the arm64 x264 wrote.
node - "$work" "$frames" "$prebuild" <<'JS'
const { readFileSync, readdirSync, existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const [work, frames, prebuild] = process.argv.slice(2);
const fail = (message) => { console.error(`FAIL: ${message}`); process.exit(1); };
const result = JSON.parse(readFileSync(`${work}/encode.json`, 'utf8'));
if (result.arch !== 'arm64') fail(`the encode ran as ${result.arch}, not arm64`);
if (result.addonPath !== `${work}/package/${prebuild}`) fail(`node-gyp-build picked ${result.addonPath}`);
if (result.frames !== Number(frames)) fail(`encoded ${result.frames} frames, expected ${frames}`);
const segments = result.segments;
if (segments.length !== 1 || segments[0].rendition !== 'tiny' || !(segments[0].bytes > 0)) fail(`segments: ${JSON.stringify(segments)}`);
if (!existsSync(segments[0].path)) fail(`segment file ${segments[0].path} is missing`);
const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-count_frames', '-of', 'json', segments[0].path], { encoding: 'utf8' }));
const video = probe.streams.find((s) => s.codec_type === 'video');
if (video?.codec_name !== 'h264' || video.width !== 96 || video.height !== 64) fail(`ffprobe: ${JSON.stringify(video)}`);
if (Number(video.nb_read_frames) !== Number(frames)) fail(`ffprobe decoded ${video.nb_read_frames} frames, expected ${frames}`);
console.log(`ffprobe: h264 ${video.width}x${video.height}, ${video.nb_read_frames} frames decoded`);
// Same frames, same options: arm64 (NEON libyuv/swscale, auto-vectorised rows) against x86-64.
// The conversion (original size) is integer math: equal. swscale's NEON and x86 rows round differently.
const names = readdirSync(`${work}/arm64`).sort();
if (names.length !== 6) fail(`expected 6 preview frames under qemu, got ${names}`);
if (readdirSync(`${work}/x64`).length) {
  if (names.join() !== readdirSync(`${work}/x64`).sort().join()) fail(`preview frames differ in number or size: ${names}`);
  for (const name of names) {
    const a = readFileSync(`${work}/x64/${name}`), b = readFileSync(`${work}/arm64/${name}`);
    let worst = 0, differing = 0;
    for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d) differing++; worst = Math.max(worst, d); }
    const allowed = name.includes('-original-') ? 0 : 1;
    if (a.length !== b.length || worst > allowed) fail(`${name}: arm64 differs from x64 by up to ${worst} (${differing} of ${a.length} bytes), allowed ${allowed}`);
    console.log(`${name}: arm64 = x64 within ${worst} (${differing} of ${a.length} bytes differ)`);
  }
}
JS
echo "PASS: $prebuild loads and encodes under qemu-aarch64"
