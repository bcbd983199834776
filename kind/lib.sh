# shellcheck shell=bash disable=SC2034
# Shared by the kind scripts (sourced, not run): names, PATH, checks that say what to install.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER=minimesh           # the name in kind/cluster.yaml
CONTEXT=kind-$CLUSTER      # the kubeconfig context kind makes for it
GATEWAY_URL=http://localhost:8080
# The checkout's own Node 24 and pnpm first (the Makefile fetches them into .tools/).
export PATH="$ROOT/.tools/node/bin:$ROOT/.tools/pnpm/bin:$ROOT/node_modules/.bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

require_docker() {
  command -v docker >/dev/null 2>&1 ||
    die "docker is not installed: install Docker Engine (https://docs.docker.com/engine/install/) and start it"
  docker info >/dev/null 2>&1 ||
    die "docker is installed but no Docker engine answers ('docker info' failed): start it (sudo systemctl start docker), or let your user reach it (sudo usermod -aG docker \$USER, then log in again)"
}

# Building without Docker (kind/images.sh): buildah and podman sharing one image store (overlay, or
# vfs where overlay does not mount), as root.
require_buildah() {
  [ "$(id -u)" = 0 ] ||
    die "no Docker engine answers, and building with buildah needs root here: run 'sudo make images' (or start Docker)"
  if ! command -v buildah >/dev/null 2>&1 || ! command -v podman >/dev/null 2>&1; then
    die "no Docker engine answers and buildah/podman are not installed: run 'sudo bash scripts/ensure-image-tools.sh' (or install and start Docker)"
  fi
  local driver
  driver=$(podman info --format '{{.Store.GraphDriverName}}' 2>&1) || die "podman info failed: $driver"
  [ "$driver" = overlay ] || [ "$driver" = vfs ] ||
    die "podman's image store uses the $driver driver, not overlay or vfs: run 'sudo bash scripts/ensure-image-tools.sh'"
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH (it reads the npm registry configuration): run 'make install' first"
}

require_kind() {
  command -v kind >/dev/null 2>&1 ||
    die "kind is not installed: see https://kind.sigs.k8s.io/docs/user/quick-start/#installation (e.g. go install sigs.k8s.io/kind@latest)"
}

require_kubectl() {
  command -v kubectl >/dev/null 2>&1 ||
    die "kubectl is not installed: see https://kubernetes.io/docs/tasks/tools/#kubectl"
}

# meshctl runs from the checkout's TypeScript source; the workspace must be installed.
require_workspace() {
  [ -d "$ROOT/node_modules" ] || die "the workspace is not installed: run 'make install' first"
  command -v node >/dev/null 2>&1 || die "node is not on PATH: run 'make install' first"
}

meshctl() {
  node --conditions=@minimesh/source "$ROOT/packages/cli/src/main.ts" "$@"
}

cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER"
}

# "<image> <Dockerfile> [ARG=value ...]" per line, from kind/images.txt (comments and blank lines
# dropped; fields joined by single spaces).
image_list() {
  sed -e 's/#.*//' "$ROOT/kind/images.txt" | awk '
    NF >= 2 { line = $1; for (i = 2; i <= NF; i++) line = line " " $i; print line; next }
    NF == 1 { exit 1 }'
}
