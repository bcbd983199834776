#!/usr/bin/env bash
# Makes sure this machine can build and run minimesh's images without Docker (`make images` with
# buildah, the image tests with podman's Docker-compatible socket, kubelet's containerd importing
# them). Idempotent: what is already there is left alone, so it is cheap to run before every build.
#   - Debian packages: buildah, podman (with netavark), containerd, runc, containernetworking-plugins,
#     debootstrap (the local stand-in for the Node base image, kind/base-image.sh), uidmap;
#     `apt-get update` runs once, and only when something is missing.
#   - /etc/containers/storage.conf: one driver (overlay where it mounts, else vfs), so buildah, podman and the tests share one image
#     store (written only when absent; an empty store made with another driver is reset).
#   - /etc/containers/containers.conf.d/50-minimesh.conf: open-file and process limits (podman 4.3's
#     defaults make Node fail to start in a container here).
#   - /etc/containers/registries.conf.d/50-minimesh.conf: short-name aliases, so `node:…` and
#     `minimesh/…` resolve to the docker.io names the local images carry instead of prompting or
#     pulling; /etc/containers/policy.json when absent (docker-archive export and import need one).
# Needs root. Fails with a message naming what is missing.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'ensure-image-tools: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (it installs packages and writes /etc/containers): run it with sudo"
command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 ||
  die "no apt-get here: install buildah, podman, containerd, runc, debootstrap and uidmap with your package manager"

# Package, then a command it provides (checked too, in case the package is half removed).
packages=(
  buildah:buildah podman:podman netavark:/usr/lib/podman/netavark containerd:containerd runc:runc
  containernetworking-plugins:/usr/lib/cni/bridge debootstrap:debootstrap uidmap:newuidmap
)
missing=()
for entry in "${packages[@]}"; do
  pkg=${entry%%:*} cmd=${entry#*:}
  installed=$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$installed" != installed ]; then
    missing+=("$pkg")
  elif [ "${cmd#/}" = "$cmd" ] && ! command -v "$cmd" >/dev/null 2>&1; then
    missing+=("$pkg")
  elif [ "${cmd#/}" != "$cmd" ] && [ ! -e "$cmd" ]; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  start=$SECONDS
  apt-get update -qq >/dev/null ||
    die "apt-get update failed: no network to the Debian mirror in /etc/apt/sources.list*? (needed for: ${missing[*]})"
  apt-get install -y -qq "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed (see the messages above)"
  say "installed in $((SECONDS - start))s: $(buildah --version), $(podman --version)"
fi

mkdir -p /etc/containers/containers.conf.d /etc/containers/registries.conf.d
marker="# written by minimesh scripts/ensure-image-tools.sh"

# One storage driver for buildah, podman and the tests. overlay when the kernel mounts it on the
# image store's filesystem: each build step stores only what it changed. vfs otherwise (any
# filesystem, nested containers): each step is a full copy of its root, and a cold build of the six
# images takes tens of GB.
storage_conf=/etc/containers/storage.conf
graphroot=/var/lib/containers/storage
overlay_works() {
  mkdir -p "$(dirname "$graphroot")"
  local probe
  probe=$(mktemp -d "$(dirname "$graphroot")/.minimesh-overlay-probe.XXXXXX")
  mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
  local ok=1
  if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
    umount "$probe/merged" && ok=0
  fi
  rm -rf "$probe"
  return $ok
}
if overlay_works; then want_driver=overlay; else want_driver=vfs; fi
want_storage="$marker
[storage]
driver = \"$want_driver\"
runroot = \"/run/containers/storage\"
graphroot = \"$graphroot\""
if [ ! -f "$storage_conf" ] || { grep -qxF "$marker" "$storage_conf" && [ "$(cat "$storage_conf")" != "$want_storage" ]; }; then
  # A store made with another driver does not open with this one. Ours (the file carries the
  # marker) holds only images kind/images.sh rebuilds: reset it. Someone else's only when empty.
  current=$(podman info --format '{{.Store.GraphDriverName}}' 2>/dev/null || echo unknown)
  if [ "$current" != "$want_driver" ] && [ -d "$graphroot" ]; then
    if ! grep -qxF "$marker" "$storage_conf" 2>/dev/null && [ -n "$(podman images -qa 2>/dev/null)$(podman ps -aq 2>/dev/null)" ]; then
      die "$graphroot holds images or containers made with the $current driver; minimesh's image store uses $want_driver: remove them (podman system reset) or write $storage_conf yourself"
    fi
    say "resetting the $current image store (it becomes $want_driver; images are rebuilt)"
    podman system reset -f >/dev/null 2>&1 || true
    rm -rf "$graphroot"
  fi
  say "writing $storage_conf (driver $want_driver)"
  printf '%s\n' "$want_storage" >"$storage_conf"
elif ! grep -qE '^[[:space:]]*driver[[:space:]]*=[[:space:]]*"(overlay|vfs)"' "$storage_conf"; then
  die "$storage_conf sets a storage driver minimesh does not use; set driver = \"overlay\" (or \"vfs\") there, or remove the file to let this script write it"
fi

conf=/etc/containers/containers.conf.d/50-minimesh.conf
want_conf="$marker
# Node (and anything else) fails to start in a container under podman 4.3's default limits here.
[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]"
if [ "$(cat "$conf" 2>/dev/null)" != "$want_conf" ]; then
  say "writing $conf (default_ulimits)"
  printf '%s\n' "$want_conf" >"$conf"
fi

# Short names: `FROM node:24.21.0-bookworm-slim` and `minimesh/meshd:0.1.0` (Docker's names) mean
# docker.io/library/node and docker.io/minimesh/meshd, found in local storage first.
aliases=$(sed -e 's/#.*//' "$ROOT/kind/images.txt" | awk 'NF >= 2 { sub(/:[^:\/]*$/, "", $1); print $1 }' | sort -u)
regs=/etc/containers/registries.conf.d/50-minimesh.conf
want_regs="$marker
[aliases]
\"node\" = \"docker.io/library/node\""
for name in $aliases; do want_regs+=$'\n'"\"$name\" = \"docker.io/$name\""; done
if [ "$(cat "$regs" 2>/dev/null)" != "$want_regs" ]; then
  say "writing $regs (short-name aliases)"
  printf '%s\n' "$want_regs" >"$regs"
fi

if [ ! -f /etc/containers/policy.json ]; then
  say "writing /etc/containers/policy.json (accept local images and archives)"
  printf '%s\n' '{ "default": [{ "type": "insecureAcceptAnything" }] }' >/etc/containers/policy.json
fi

driver=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1) || die "podman info failed: $driver"
case "$driver" in overlay | vfs) ;; *) die "podman uses the $driver storage driver, not overlay or vfs (see $storage_conf)" ;; esac
say "image tools ready: $(buildah --version | cut -d' ' -f1-3), $(podman --version), storage $driver"
