#!/usr/bin/env bash
# Makes the fuzzer's seed corpus with ffmpeg: small real media in the containers and
# shapes the file-input path meets (TS, MP4, MKV, MP3, WAV, odd sizes, variable frame
# rate, truncated, zero-length, huge dimensions). Small on purpose: each file is a few KB,
# so libFuzzer mutates quickly and the committed corpus stays well under a few hundred KB.
#   scripts/make-fuzz-corpus.sh [dir]   (default test/fixtures/fuzz-corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-test/fixtures/fuzz-corpus}
mkdir -p "$dir"
ff() { ffmpeg -nostdin -v error -y "$@"; }
video=(-f lavfi -i "testsrc2=size=64x36:rate=10")
tone=(-f lavfi -i "sine=frequency=440:sample_rate=8000")

ff "${video[@]}" "${tone[@]}" -t 1 -c:v libx264 -preset ultrafast -g 5 -c:a aac -b:a 16k -f mpegts "$dir/h264-aac.ts"
ff "${video[@]}" "${tone[@]}" -t 1 -c:v libx264 -preset ultrafast -bf 2 -c:a aac -b:a 16k "$dir/h264-bframes-aac.mp4"
ff "${video[@]}" -t 1 -c:v mpeg4 -q:v 20 "$dir/mpeg4.mkv"
ff "${video[@]}" -t 0.5 -c:v ffv1 "$dir/ffv1.mkv"
ff "${video[@]}" -t 0.5 -c:v mjpeg -q:v 31 "$dir/mjpeg.avi"
ff "${tone[@]}" -t 0.5 -c:a libmp3lame -b:a 8k "$dir/audio.mp3"
ff "${tone[@]}" -t 0.2 -c:a pcm_s16le "$dir/audio.wav"
ff -f lavfi -i "testsrc2=size=33x17:rate=7" -t 1 -c:v libx264 -preset ultrafast "$dir/odd-size.mkv"
# Variable frame rate: timestamps that bunch up and jump.
ff "${video[@]}" -t 2 -vf "setpts='PTS+if(gt(N,5),2/TB,0)+if(eq(mod(N,3),0),0.05/TB,0)'" -fps_mode vfr -c:v libx264 -preset ultrafast "$dir/vfr.mkv" 2>/dev/null ||
  ff "${video[@]}" -t 2 -vf "setpts='PTS+if(gt(N,5),2/TB,0)+if(eq(mod(N,3),0),0.05/TB,0)'" -vsync vfr -c:v libx264 -preset ultrafast "$dir/vfr.mkv"
# Huge dimensions in few bytes: one flat 8192x64 frame, and a 4096x4096 one.
ff -f lavfi -i "color=c=gray:size=8192x64:rate=1" -frames:v 1 -c:v mjpeg -q:v 31 "$dir/huge-wide.mkv"
ff -f lavfi -i "color=c=black:size=4096x4096:rate=1" -frames:v 1 -c:v libx264 -preset ultrafast -crf 51 "$dir/huge-square.mp4"
head -c 3000 "$dir/h264-aac.ts" > "$dir/truncated.ts"
head -c 1200 "$dir/h264-bframes-aac.mp4" > "$dir/truncated.mp4"
: > "$dir/zero-length"
du -sh "$dir"
