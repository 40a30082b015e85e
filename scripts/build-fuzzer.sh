#!/usr/bin/env bash
# Builds the libFuzzer harness for the file-input path (native/fuzz/file-input-fuzzer.cc) with
# clang's -fsanitize=fuzzer,address,undefined, linked against the system FFmpeg, into
# build-fuzz/file-input-fuzzer. Rebuilds only when the native sources changed.
# Needs clang and libclang-rt-dev (Debian: apt-get install clang libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

out=build-fuzz
binary="$out/file-input-fuzzer"
# The addon's Node-API files stay out: the harness drives LadderPipeline directly.
sources=$(ls native/src/*.cc | grep -v -e '/addon\.cc$' -e 'binding\.cc$' -e '/config-reader\.cc$')
stamp=$(cat $sources native/src/*.h native/fuzz/file-input-fuzzer.cc "$0" | sha256sum | cut -c1-16)
if [[ -x "$binary" && -f "$out/stamp" && "$(cat "$out/stamp")" == "$stamp" ]]; then
  echo "$binary is up to date"
  exit 0
fi
mkdir -p "$out/obj"
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=undefined -Inative/src -Inative/cuda $(pkg-config --cflags libavcodec libavformat libavfilter libswscale libavutil libswresample ffnvcodec))
objects=()
pids=()
for source in $sources native/fuzz/file-input-fuzzer.cc; do
  object="$out/obj/$(basename "${source%.cc}").o"
  objects+=("$object")
  clang++ "${flags[@]}" -c "$source" -o "$object" &
  pids+=($!)
  # Two at a time: the machine is shared.
  if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done
clang++ -fsanitize=fuzzer,address,undefined "${objects[@]}" -o "$binary" \
  $(pkg-config --libs libavcodec libavformat libavfilter libswscale libavutil libswresample) -lyuv -ldl -lpthread
echo "$stamp" > "$out/stamp"
echo "built $binary"
