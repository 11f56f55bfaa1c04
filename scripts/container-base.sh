#!/usr/bin/env bash
# Builds a local stand-in for the Dockerfile's default base image (node:20-bookworm-slim) where no registry is
# reachable: a Debian bookworm minbase rootfs made with debootstrap from the configured apt mirror, plus this
# machine's node and npm, imported with `podman import`. tini is included as the official image's users would
# install it (the Dockerfile installs it only when the base lacks it, which needs the Debian mirror); nginx-light
# so the same image can run the nginx side of the sidecar test and `nginx -t` as a check_cmd.
#
#   scripts/container-base.sh [IMAGE]        default IMAGE: localhost/tsconfd-base:local
#
# It also fills an npm cache with the project's locked dependencies (using the host's npm and its registry
# access), so the image builds with no network at all; the build stage's `npm ci` then reads that cache. When it
# is done it prints the offline build command with its cache directory filled in, which by default is:
#
#   podman --runtime runc --cgroup-manager=cgroupfs build --network=none \
#     --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
#     -v /var/tmp/tsconfd-container/npm-cache:/root/.npm:O -v /var/tmp/tsconfd-container/npmrc:/root/.npmrc:ro \
#     --build-arg BASE=localhost/tsconfd-base:local -t localhost/tsconfd:dev .
#
# An existing IMAGE is kept unless TSCONFD_BASE_REBUILD=1. Needs root, podman, node, npm and debootstrap (installed
# with apt-get when missing and run as root on Debian; elsewhere it says what to install). Everything is cached in
# $TSCONFD_CONTAINER_CACHE (default /var/tmp/tsconfd-container); delete it to rebuild from scratch.
set -euo pipefail

image=${1:-localhost/tsconfd-base:local}
cache=${TSCONFD_CONTAINER_CACHE:-/var/tmp/tsconfd-container}
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\([^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
packages=nginx-light,ca-certificates,tini
# Bumped whenever the image's content changes, so an older local base is rebuilt rather than reused.
base_version=2

print_build_command() {
  cat >&2 <<EOF
container-base: build the tsconfd image offline with:
  podman --runtime runc --cgroup-manager=cgroupfs build --network=none \\
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \\
    -v $cache/npm-cache:/root/.npm:O -v $cache/npmrc:/root/.npmrc:ro \\
    --build-arg BASE=$image -t localhost/tsconfd:dev .
EOF
}

PATH=$PATH:/usr/sbin
if ! command -v debootstrap >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "container-base: debootstrap is not installed; installing it with apt-get (Debian package debootstrap)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2 \
      || { echo "container-base: apt-get install debootstrap failed; install it and run this again" >&2; exit 2; }
  else
    echo "container-base: debootstrap is needed to build the base image: run this as root on Debian/Ubuntu" >&2
    echo "  (it then installs debootstrap itself), or install it first: apt-get install debootstrap" >&2
    exit 2
  fi
fi
for tool in podman node npm; do
  command -v "$tool" >/dev/null || { echo "container-base: $tool is not installed" >&2; exit 2; }
done

rootfs=$cache/rootfs-$suite-$(echo "$packages" | sha256sum | cut -c1-8)
if [[ ! -x $rootfs/bin/sh ]]; then
  mkdir -p "$cache"
  rm -rf "$rootfs.partial"
  echo "container-base: debootstrap $suite from $mirror (a few minutes, once)" >&2
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs.partial" "$mirror" >&2
  # Logs and caches are not part of an image.
  rm -rf "$rootfs.partial"/var/cache/apt/archives/*.deb "$rootfs.partial"/var/lib/apt/lists/* "$rootfs.partial"/var/log/*.log
  mv "$rootfs.partial" "$rootfs"
fi

# npm ci into a throwaway directory, only to leave every locked package in the cache. Before the base image
# check: a changed package-lock.json needs its packages cached even when the base image is reused.
repo=$(cd "$(dirname "$0")/.." && pwd)
lock_sum=$(cat "$repo/package.json" "$repo/package-lock.json" | sha256sum | cut -c1-16)
if [[ ! -f $cache/npm-cache/.filled-$lock_sum ]]; then
  echo "container-base: filling $cache/npm-cache for package-lock.json $lock_sum" >&2
  install_dir=$(mktemp -d "$cache/npm-install.XXXXXX")
  cp "$repo/package.json" "$repo/package-lock.json" "$install_dir/"
  (cd "$install_dir" && npm ci --cache "$cache/npm-cache" --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  rm -rf "$install_dir"
  touch "$cache/npm-cache/.filled-$lock_sum"
fi
printf 'offline=true\nfund=false\naudit=false\nupdate-notifier=false\n' >"$cache/npmrc"

existing=$("${podman[@]}" image inspect --format '{{index .Labels "tsconfd.base.version"}}' "$image" 2>/dev/null || true)
if [[ -z ${TSCONFD_BASE_REBUILD:-} && $existing == "$base_version" ]]; then
  echo "container-base: $image exists (TSCONFD_BASE_REBUILD=1 to rebuild it)" >&2
  print_build_command
  exit 0
fi

# node and npm the way the official image lays them out: /usr/local/bin, /usr/local/lib/node_modules.
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
stage=$(mktemp -d "$cache/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/local/bin" "$stage/usr/local/lib/node_modules"
cp "$node_bin" "$stage/usr/local/bin/node"
cp -a "$npm_dir" "$stage/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"

# The node binary must find its shared libraries in the rootfs (a NodeSource or official build needs only glibc
# and libstdc++, which minbase has); fail here rather than in the first container.
missing=$(ldd "$node_bin" | awk '/=>/ {print $1}' | while read -r lib; do
  [[ -e $rootfs/lib/x86_64-linux-gnu/$lib || -e $rootfs/usr/lib/x86_64-linux-gnu/$lib ]] || echo "$lib"
done)
if [[ -n $missing ]]; then echo "container-base: rootfs lacks libraries for node: $missing" >&2; exit 1; fi


tar --numeric-owner -C "$rootfs" -c . | tar -C "$stage" -x --skip-old-files
tar --numeric-owner -C "$stage" -c . | "${podman[@]}" import \
  --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  --change "LABEL tsconfd.base.version=$base_version" \
  --message "debian $suite minbase + $packages + node $(node --version)" \
  - "$image" >/dev/null 2>&1
echo "container-base: built $image (node $(node --version), debian $suite)" >&2
print_build_command
