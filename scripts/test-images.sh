#!/usr/bin/env bash
# The image tests: builds every image (`make images`), then starts each one with testcontainers
# (e2e/src/images/*.test.ts, e2e/vitest.images.config.ts) and checks what it serves and as which uid.
# testcontainers speaks the Docker API: to Docker where a Docker engine answers, otherwise to
# podman's Docker-compatible socket, which this script starts (and stops afterwards) on a socket of
# its own, over the image store `make images` filled with buildah.
#   bash scripts/test-images.sh [vitest args]   e.g. --reporter=json --outputFile.json=FILE
#   MESH_SKIP_IMAGE_BUILD=1                     test the images already built (no make images)
# Without Docker it needs root (buildah, podman); scripts/ensure-image-tools.sh installs the tools.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/.tools/node/bin:$ROOT/.tools/pnpm/bin:$ROOT/node_modules/.bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'test-images: %s\n' "$*" >&2
  exit 1
}

[ -d node_modules ] || die "the workspace is not installed: run 'make install' first"

docker_engine=0
if [ -z "${MESH_IMAGE_BUILDER:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker_engine=1
fi
if [ "$docker_engine" = 0 ]; then
  [ "$(id -u)" = 0 ] || die "no Docker engine answers, and the podman/buildah path needs root: run it with sudo (or start Docker)"
  step "image tools (scripts/ensure-image-tools.sh)"
  bash scripts/ensure-image-tools.sh
fi

if [ "${MESH_SKIP_IMAGE_BUILD:-}" = 1 ]; then
  step "images: MESH_SKIP_IMAGE_BUILD=1, testing the images already built"
else
  step "images (make images)"
  start=$SECONDS
  bash kind/images.sh
  echo "make images took $((SECONDS - start))s"
fi

socket_pid=
cleanup() {
  if [ -n "$socket_pid" ]; then
    kill "$socket_pid" 2>/dev/null || true
    wait "$socket_pid" 2>/dev/null || true
  fi
  [ -z "${socket_dir:-}" ] || rm -rf "$socket_dir"
}
trap cleanup EXIT

if [ "$docker_engine" = 0 ]; then
  step "podman's Docker-compatible API (podman system service)"
  socket_dir=$(mktemp -d /tmp/minimesh-podman.XXXXXX)
  socket="$socket_dir/podman.sock"
  podman system service --time=0 "unix://$socket" >"$socket_dir/service.log" 2>&1 &
  socket_pid=$!
  for _ in $(seq 1 100); do
    if [ -S "$socket" ] && node -e '
      require("node:http").get({ socketPath: process.argv[1], path: "/_ping" }, (r) => process.exit(r.statusCode === 200 ? 0 : 1))
        .on("error", () => process.exit(1))' "$socket"; then
      break
    fi
    kill -0 "$socket_pid" 2>/dev/null || die "podman system service exited: $(cat "$socket_dir/service.log")"
    sleep 0.2
  done
  [ -S "$socket" ] || die "podman's socket $socket did not appear in 20 s: $(cat "$socket_dir/service.log")"
  export DOCKER_HOST="unix://$socket"
  # testcontainers normally starts its reaper container (Ryuk, testcontainers/ryuk) to remove what a
  # test run leaves behind; that image cannot be pulled here (no registry reachable), so the reaper
  # is off: each test stops its own containers and networks, and this script stops the socket.
  export TESTCONTAINERS_RYUK_DISABLED=true
  # podman publishes ports on this host. testcontainers takes a /.dockerenv file (which some VM
  # images carry) to mean it runs inside a container and would go through the bridge's gateway.
  export TESTCONTAINERS_HOST_OVERRIDE=${TESTCONTAINERS_HOST_OVERRIDE:-localhost}
  echo "DOCKER_HOST=$DOCKER_HOST (podman $(podman --version | awk '{ print $3 }')), TESTCONTAINERS_RYUK_DISABLED=true, TESTCONTAINERS_HOST_OVERRIDE=$TESTCONTAINERS_HOST_OVERRIDE"
fi

step "image tests (testcontainers)"
pnpm exec vitest run --config e2e/vitest.images.config.ts "$@"
