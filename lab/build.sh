#!/usr/bin/env bash
# The lab's kernel build: fetch Debian's linux-source package, configure tinyconfig + the fragment, build.
#
#   build.sh kernel PACKAGE DEB_VERSION DIR     fetch, extract, configure, build bzImage + modules in DIR
#   build.sh module DIR DRIVER_SRC OUT          build the fake driver against DIR's build tree into OUT
#
# DIR is the cache directory of one source version ($cache/<version>); it gets the .deb, src/ (the
# extracted tree), build-<fragment hash>/ (the O= tree) and stamps, so every step is done once. Each step
# prints one line "lab-step: <name>" to stderr before it starts (the CLI turns them into progress).
# Build products never land in the repository: the driver is copied to OUT before it is built.
# LAB_STOP_AFTER=configure stops `kernel` before the build (to prepare trees while another builds).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
fragment="$here/kernel/fragment.config"
jobs="$(nproc)"
step() { printf 'lab-step: %s\n' "$*" >&2; }

fragment_hash() { sha256sum "$fragment" | cut -c1-12; }

kernel() {
  local pkg="$1" debver="$2" dir="$3"
  mkdir -p "$dir"
  cd "$dir"
  local deb
  deb="$(ls "${pkg}_${debver//:/%3a}"_*.deb 2>/dev/null | head -n1 || true)"
  if [ -z "$deb" ]; then
    step "fetch $pkg=$debver (apt-get download)"
    apt-get download -q "$pkg=$debver" >&2
    deb="$(ls "${pkg}_${debver//:/%3a}"_*.deb | head -n1)"
  fi
  if [ ! -f src/.extracted ]; then
    step "extract $deb"
    rm -rf src src.tmp && mkdir src.tmp
    local tarball
    tarball="$(dpkg-deb -c "$deb" | grep -o 'usr/src/linux-source-[^ ]*\.tar\.xz$' | head -n1)"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C src.tmp "./$tarball"
    tar -xJf "src.tmp/$tarball" -C src.tmp
    rm -f "src.tmp/$tarball"
    local top
    top="$(find src.tmp -mindepth 1 -maxdepth 1 -type d -name 'linux-source-*' | head -n1)"
    mv "$top" src && rm -rf src.tmp
    touch src/.extracted
  fi
  local build="build-$(fragment_hash)"
  if [ ! -f "$build/.configured" ]; then
    step "configure tinyconfig + $(basename "$fragment")"
    rm -rf "$build" && mkdir -p "$build"
    make -s -C src O="$dir/$build" ARCH=x86_64 tinyconfig >&2
    (cd "$build" && "$dir/src/scripts/kconfig/merge_config.sh" -m -O . .config "$fragment" >&2)
    make -s -C src O="$dir/$build" ARCH=x86_64 olddefconfig >&2
    local missing=0
    while IFS= read -r line; do
      case "$line" in CONFIG_*=*) ;; *) continue ;; esac
      if ! grep -qx -- "$line" "$build/.config"; then
        echo "lab: $line did not stick (got: $(grep -E "^(# )?${line%%=*}[= ]" "$build/.config" || echo absent))" >&2
        missing=1
      fi
    done <"$fragment"
    [ "$missing" = 0 ] || exit 1
    touch "$build/.configured"
  fi
  [ "${LAB_STOP_AFTER:-}" = configure ] && { echo "$dir/$build"; return; }
  if [ ! -f "$build/.built" ]; then
    step "build bzImage modules (make -j$jobs, nice 10)"
    nice -n 10 make -s -C src O="$dir/$build" ARCH=x86_64 -j"$jobs" bzImage modules >&2
    touch "$build/.built"
  fi
  echo "$dir/$build"
}

module() {
  local dir="$1" driver="$2" out="$3"
  local build="$dir/build-$(fragment_hash)"
  [ -f "$build/.built" ] || { echo "lab: no kernel build in $build" >&2; exit 1; }
  step "build module $(basename "$driver")"
  local work="$out.src"
  rm -rf "$work" && mkdir -p "$work" "$out"
  cp "$driver"/*.c "$driver"/Kbuild "$work"/
  nice -n 10 make -s -C "$build" ARCH=x86_64 M="$work" modules >&2
  cp "$work"/*.ko "$out"/
  cp "$build/arch/x86/boot/bzImage" "$out"/
  cp "$build/.config" "$out"/config
  make -s -C "$build" ARCH=x86_64 kernelrelease >"$out/kernelrelease"
  rm -rf "$work"
}

case "${1:-}" in
  kernel) shift; kernel "$@" ;;
  module) shift; module "$@" ;;
  *) echo "usage: build.sh kernel PACKAGE DEB_VERSION DIR | module DIR DRIVER_SRC OUT" >&2; exit 2 ;;
esac
