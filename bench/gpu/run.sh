#!/usr/bin/env bash
# NAS Studio's GPU run, on a machine with no Node or npm: it unpacks the folder bench/gpu/pack.sh wrote and runs
#   1. the shared device check (gpu-device-check.sh): nvidia-smi, the Vulkan ICDs, Dawn's adapters, tfjs-webgpu
#      against tfjs's cpu backend; the Vulkan driver it picks is used for the rest;
#   2. nas-studio doctor: the backends, webgpu with the GPU's name;
#   3. the training bench's nets (bench/training.ts) on webgpu against PyTorch on CUDA, and on wasm beside PyTorch
#      on one CPU thread;
#   4. the main job (examples/digits-macro.nas.yaml) cut to TRIALS trials, on webgpu beside wasm, each timed.
# It prints all of it and writes it to $OUT/gpu-<date>.txt when OUT is set (keep it as bench/results/gpu-<date>.txt).
#
#   on the dev machine:   npm run build && bash bench/gpu/pack.sh       (writes .gpu-pack/, git-ignored)
#   on the GPU machine:   bash .gpu-pack/run.sh                          (.gpu-pack named in carry; a 600 s limit)
#
# The run keeps to BUDGET_S in all (default 450). Env: BUDGET_S, OUT, TRIALS (default 10), NET_SECONDS (timed seconds
# per net and side, default 2), BENCH_NETS (the bench's: which nets, default all), WORK (where it unpacks, default
# /tmp/nas-studio-gpu). Without a GPU, a software Vulkan adapter (`eval "$(bash scripts/lavapipe.sh)"`) runs it too:
# webgpu's figures are then marked as correctness only, and the CUDA side says why it skipped.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T0=$(date +%s)
BUDGET_S=${BUDGET_S:-450}
W=${WORK:-/tmp/nas-studio-gpu}
left() { echo $((BUDGET_S - ($(date +%s) - T0))); }
say() { printf '\n== %s  [t=%ss, %ss left]\n' "$*" $(($(date +%s) - T0)) "$(left)"; }
# A step under a time limit; the bench's children are in its process group, so they stop with it.
limited() { # SECONDS COMMAND...
  local seconds=$1
  shift
  if [ "$seconds" -lt 10 ]; then echo "skipped: the budget is spent"; return 0; fi
  timeout -k 5 "$seconds" "$@" 2>&1 | grep --line-buffered -v 'artificially reduced'
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 124 ] && echo "(stopped at ${seconds} s by the budget)"
  return 0
}

REPORT=/tmp/gpu-$(date -u +%F).txt
[ -n "${OUT:-}" ] && REPORT=$OUT/gpu-$(date -u +%F).txt
exec > >(tee "$REPORT") 2>&1

say "NAS Studio GPU run ($(uname -srm); $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")), unpacking into $W"
rm -rf "$W" && mkdir -p "$W" || exit 1
if command -v xz >/dev/null 2>&1; then
  xz -dc "$HERE/nas-studio.tar.xz" | tar -xf - -C "$W" || exit 1
else
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$HERE/nas-studio.tar.xz" "$W" || exit 1
fi
cat "$W/PACKED"
export PATH=$W/bin:$PATH
cd "$W" || exit 1

say "1. device check"
limited $(($(left) > 400 ? 150 : $(left) / 3)) env BUDGET_S=$(($(left) > 400 ? 130 : $(left) / 3 - 20)) bash gpu-device-check.sh "$W" | tee device-check.log
# Its choice of Vulkan driver, as it printed it, for the steps below: an NVIDIA ICD outside the loader's own folders,
# and the carried loader where none is installed.
icd=$(sed -n 's/^using VK_ICD_FILENAMES=//p' device-check.log | head -1)
[ -n "$icd" ] && export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd
glx=$(sed -n "s|^libGLX_nvidia.so.0 (NVIDIA's Vulkan driver): \(/.*\)|\1|p" device-check.log | head -1)
[ -n "$icd" ] && [ -n "$glx" ] && export LD_LIBRARY_PATH=$(dirname "$glx")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
grep -q '^loader: none installed; using carried' device-check.log && export LD_LIBRARY_PATH=$W/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "for the steps below: VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-<unset>} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-<unset>}"

say "2. nas-studio doctor"
limited 60 node dist/cli.js doctor

# The main job gets what the nets leave, and at least a third of what is left now.
say "3. training bench: the nets on webgpu against PyTorch on CUDA, and on wasm"
limited $(($(left) * 2 / 3)) env BENCH_BACKENDS=webgpu,wasm BENCH_MAIN_JOB=0 BENCH_TRAINING_SECONDS="${NET_SECONDS:-2}" node bench/training.js

say "4. the main job, ${TRIALS:-10} trials, on wasm then webgpu (a fresh database each)"
limited $(($(left) - 5)) env BENCH_BACKENDS=webgpu,wasm BENCH_NETS=none BENCH_MAIN_JOB_TRIALS="${TRIALS:-10}" node bench/training.js

say "done; report in $REPORT"
