#!/usr/bin/env bash
# Packs what a GPU machine needs to run NAS Studio's own code, with no Node or npm there, into one folder
# (default .gpu-pack/, git-ignored): run.sh and nas-studio.tar.xz, which holds this machine's node, dist/'s
# bundles, the training bench bundled by esbuild, the packages those load at run time, the Vulkan loader,
# the digits data, the main job's example and the shared device check. run.sh's header says how to run it.
#
#   npm run build && bash bench/gpu/pack.sh [DIR]
#
# Env: GPU_DEVICE_CHECK, the shared device check to carry (default /work/shared/tools/gpu-device-check.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=${1:-$ROOT/.gpu-pack}
NM=$ROOT/node_modules
DEVICE_CHECK=${GPU_DEVICE_CHECK:-/work/shared/tools/gpu-device-check.sh}
die() {
  echo "pack: $*" >&2
  exit 1
}

[ -f "$ROOT/dist/cli.js" ] || die "no dist/cli.js: run npm run build first"
[ -f "$DEVICE_CHECK" ] || die "no device check at $DEVICE_CHECK (set GPU_DEVICE_CHECK)"
[ -f "$NM/webgpu/dist/linux-x64/dawn.node" ] || die "no webgpu package (npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0)"
LOADER=$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/ {print $NF; exit}')
[ -n "$LOADER" ] || die "no libvulkan.so.1 here to carry (apt-get install libvulkan1)"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/dist" "$STAGE/bin" "$STAGE/lib" "$STAGE/examples" "$STAGE/data/digits" "$STAGE/node_modules/@tensorflow"

# The CLI and its trainers (dist/engine.js is the extension's; the source maps stay behind).
cp "$ROOT"/dist/{cli.js,trainer-process.js,tfjs-backend-wasm.wasm,tfjs-backend-wasm-simd.wasm} "$STAGE/dist/"
# The training bench as plain JavaScript, bundled as scripts/build.mjs bundles the CLI (packages stay external):
# the GPU machine has no tsx. It runs its children as it is run itself, so the bundles call each other.
"$NM/.bin/esbuild" "$ROOT"/bench/{training,training-child,webgpu-probe}.ts --bundle --platform=node --format=cjs --target=node20 \
  --packages=external --outdir="$STAGE/bench" --log-level=warning
# The wasm backend looks for its binaries beside the bundle that runs it, as in dist/.
cp "$ROOT"/dist/*.wasm "$ROOT"/bench/training_torch.py "$ROOT"/examples/pytorch/networks.py "$STAGE/bench/"
cp "$ROOT/examples/digits-macro.nas.yaml" "$STAGE/examples/"
cp "$ROOT/data/digits/digits.csv.gz" "$STAGE/data/digits/"

# The packages the bundles load, found by tracing require() under `doctor` and one-trial searches on wasm and webgpu.
# tfjs's packages are each one file for Node (package.json's main), as the device check carries them.
for p in tfjs tfjs-core tfjs-backend-cpu tfjs-backend-webgl tfjs-converter tfjs-data tfjs-layers tfjs-backend-wasm tfjs-backend-webgpu; do
  from=$NM/@tensorflow/$p
  main=$(node -p "require('$from/package.json').main")
  mkdir -p "$(dirname "$STAGE/node_modules/@tensorflow/$p/$main")"
  cp "$from/package.json" "$STAGE/node_modules/@tensorflow/$p/"
  cp "$from/$main" "$STAGE/node_modules/@tensorflow/$p/$main"
done
for p in ajv fast-deep-equal fast-uri json-schema-traverse yaml long seedrandom bindings file-uri-to-path; do
  cp -r "$NM/$p" "$STAGE/node_modules/"
done
mkdir -p "$STAGE/node_modules/better-sqlite3/build/Release" "$STAGE/node_modules/webgpu/dist/linux-x64"
cp -r "$NM/better-sqlite3/package.json" "$NM/better-sqlite3/lib" "$STAGE/node_modules/better-sqlite3/"
cp "$NM/better-sqlite3/build/Release/better_sqlite3.node" "$STAGE/node_modules/better-sqlite3/build/Release/"
cp "$NM/webgpu/package.json" "$NM/webgpu/index.js" "$STAGE/node_modules/webgpu/"
cp "$NM/webgpu/dist/linux-x64/dawn.node" "$STAGE/node_modules/webgpu/dist/linux-x64/"

cp -L "$LOADER" "$STAGE/lib/libvulkan.so.1"
cp "$DEVICE_CHECK" "$STAGE/gpu-device-check.sh"
cp "$(readlink -f "$(command -v node)")" "$STAGE/bin/node"
commit=$(git -C "$ROOT" rev-parse --short HEAD)
[ -z "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ] || commit="$commit with uncommitted changes"
echo "NAS Studio $commit, packed $(date -u +%FT%TZ), node $(node --version)" >"$STAGE/PACKED"

rm -rf "$DIR" && mkdir -p "$DIR"
echo "pack: compressing $(du -sh "$STAGE" | cut -f1) (node and Dawn are most of it); a minute or two"
tar -C "$STAGE" -cf - . | xz -T0 -6 >"$DIR/nas-studio.tar.xz"
cp "$ROOT/bench/gpu/run.sh" "$DIR/run.sh"
echo "pack: $(du -sh "$DIR" | cut -f1) in $DIR ($(du -b "$DIR/nas-studio.tar.xz" | cut -f1) bytes of tar.xz)"
