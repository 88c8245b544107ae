#!/usr/bin/env bash
# A software WebGPU adapter for the tests: Mesa 25's lavapipe (Vulkan on the CPU) from Debian's
# bookworm-backports, unpacked into a folder with `apt-get download` and `dpkg -x`, so the system's own
# Mesa is left alone. Debian 12's lavapipe (Mesa 22.3) lacks features Dawn requires.
#
#   bash scripts/lavapipe.sh [DIR]   unpacks into DIR (default ~/.cache/nas-studio/lavapipe) and prints
#                                    the two variables that point Vulkan at it, as `export` lines.
# Needs libvulkan1 (the loader) installed; installs it when run as root. Idempotent: a second run
# only prints the variables.
set -euo pipefail
DIR=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/nas-studio/lavapipe}
LIB=$DIR/root/usr/lib/x86_64-linux-gnu
ICD=$DIR/lvp_icd.json

if [ ! -f "$LIB/libvulkan_lvp.so" ]; then
  if ! ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
    [ "$(id -u)" = 0 ] || { echo "lavapipe.sh: the Vulkan loader is missing: apt-get install libvulkan1" >&2; exit 1; }
    apt-get install -y --no-install-recommends libvulkan1 >&2
  fi
  mkdir -p "$DIR/parts" "$DIR/lists/partial" "$DIR/cache/archives/partial" "$DIR/debs" "$DIR/root"
  # The system's first Debian source stanza, with the suite changed: no host is named here.
  awk 'BEGIN{RS="";ORS="\n\n"} NR==1' /etc/apt/sources.list.d/debian.sources |
    sed 's/^Suites:.*/Suites: bookworm-backports/' >"$DIR/parts/backports.sources"
  apt_private=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$DIR/parts" -o "Dir::State::Lists=$DIR/lists" -o "Dir::Cache=$DIR/cache")
  apt-get "${apt_private[@]}" update >&2
  (cd "$DIR/debs" && apt-get "${apt_private[@]}" download \
    mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports >&2)
  for deb in "$DIR"/debs/*.deb; do dpkg -x "$deb" "$DIR/root"; done
fi
printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.4.305"}}\n' "$LIB/libvulkan_lvp.so" >"$ICD"
echo "export VK_ICD_FILENAMES=$ICD"
echo "export LD_LIBRARY_PATH=$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
