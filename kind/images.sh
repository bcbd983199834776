#!/usr/bin/env bash
# `make images`: builds every image in kind/images.txt with its stated tag, from the repository
# root as the build context, with the same Dockerfiles either way:
#   - with Docker where a Docker engine answers (`docker build`, its layer cache);
#   - otherwise with buildah (`buildah bud --layers`, storage overlay or vfs, chroot isolation), as root, into
#     the image store podman shares (scripts/ensure-image-tools.sh sets that up). The base image
#     node:24.21.0-bookworm-slim is pulled, or, where no registry can be reached, built locally as a
#     stand-in with the same name (kind/base-image.sh); an existing one is kept.
# Usage:
#   bash kind/images.sh [IMAGE ...]            build all images, or only those named
#   bash kind/images.sh --save DIR [IMAGE ...] build, then write DIR/<name>.tar for each (docker-archive
#                                              with its repo tag, e.g. DIR/meshd.tar holds
#                                              docker.io/minimesh/meshd:0.1.0; `ctr -n k8s.io images
#                                              import DIR/meshd.tar` makes it kubelet's)
#   bash kind/images.sh --no-build --save DIR  export the images already built
# Environment: MESH_IMAGE_BUILDER=docker|buildah picks the builder (default: docker when `docker
# info` works, else buildah). MESH_BASE_IMAGE=pull|local|auto: how a missing base image is got
# (default auto: pull, and build the stand-in when the pull fails).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
export BUILDKIT_PROGRESS=${BUILDKIT_PROGRESS:-plain}

save_dir=
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --save)
      [ $# -ge 2 ] || die "--save needs a directory"
      save_dir=$2
      shift 2
      ;;
    --no-build)
      build=0
      shift
      ;;
    --) shift && break ;;
    -*) die "unknown option $1 (usage: bash kind/images.sh [--save DIR] [--no-build] [IMAGE ...])" ;;
    *) break ;;
  esac
done

mapfile -t entries < <(image_list) || die "kind/images.txt is malformed (want '<image> <Dockerfile> [ARG=value ...]' per line)"
selected=()
for entry in "${entries[@]}"; do
  image=${entry%% *}
  if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qxF "$image"; then selected+=("$entry"); fi
done
[ ${#selected[@]} -gt 0 ] || die "no image in kind/images.txt matches: $*"

builder=${MESH_IMAGE_BUILDER:-}
if [ -z "$builder" ]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then builder=docker; else builder=buildah; fi
fi
case "$builder" in
  docker) require_docker ;;
  buildah)
    # Idempotent and quick when all is in place: packages, storage, limits, short names.
    if [ "$(id -u)" = 0 ]; then bash "$ROOT/scripts/ensure-image-tools.sh" || exit 1; fi
    require_buildah
    ;;
  *) die "MESH_IMAGE_BUILDER=$builder: want docker or buildah" ;;
esac

# The name buildah and podman store an image under: Docker's implicit docker.io made explicit
# (an unqualified name would become localhost/…, which kubelet would not find).
stored_name() {
  case "$1" in
    */*/*) echo "$1" ;;
    */*) [[ ${1%%/*} == *.* || ${1%%/*} == *:* || ${1%%/*} == localhost ]] && echo "$1" || echo "docker.io/$1" ;;
    *) echo "docker.io/library/$1" ;;
  esac
}

image_size() {
  if [ "$builder" = docker ]; then docker image inspect --format '{{.Size}}' "$1"; else podman image inspect --format '{{.Size}}' "$(stored_name "$1")"; fi
}

# For buildah: the base image, then the host's npm registry configuration for the builder stages.
buildah_setup() {
  local base
  base=$(sed -n 's/^ARG NODE_IMAGE=//p' "$ROOT/packages/control-plane/Dockerfile" | head -n1)
  [ -n "$base" ] || die "packages/control-plane/Dockerfile has no 'ARG NODE_IMAGE=…' line"
  for entry in "${selected[@]}"; do
    read -r _ dockerfile _ <<<"$entry"
    grep -qxF "ARG NODE_IMAGE=$base" "$ROOT/$dockerfile" || die "$dockerfile does not build on $base (ARG NODE_IMAGE)"
  done
  step "base image $base"
  if podman image exists "$(stored_name "$base")"; then
    bash "$ROOT/kind/base-image.sh" # keeps it when it has the right Node version
  elif [ "${MESH_BASE_IMAGE:-auto}" != local ] && podman pull "$(stored_name "$base")"; then
    echo "pulled $base"
  elif [ "${MESH_BASE_IMAGE:-auto}" = pull ]; then
    die "could not pull $base (MESH_BASE_IMAGE=pull)"
  else
    echo "cannot pull $base: building the local stand-in (kind/base-image.sh)"
    bash "$ROOT/kind/base-image.sh"
  fi

  # Builder stages run npm, pnpm and corepack. They reach the npm registry as this host does:
  #   - an npmrc with the host's registry (npm config get registry), its scoped registries, proxy
  #     and TLS settings, mounted as root's ~/.npmrc in every RUN (a mount: it is in no layer);
  #   - the CA bundle the host's Node trusts (NODE_EXTRA_CA_CERTS, or npm's cafile), mounted and
  #     named as npm's cafile, for hosts behind a TLS-inspecting proxy;
  #   - corepack (apps/bookinfo/Dockerfile) reads no npmrc and no CA file, only its environment,
  #     which a build cannot set from outside: the pnpm it needs is put in a corepack cache on the
  #     host first (corepack in the base image, run with that environment) and mounted at its
  #     home, so corepack finds it and downloads nothing.
  # The only traces in an image are the empty mount points (/root/.npmrc, /root/.cache/node/corepack).
  conf_dir=$(mktemp -d /tmp/minimesh-images.XXXXXX)
  trap 'rm -rf "$conf_dir"' EXIT
  local registry userconfig ca=
  registry=$(npm config get registry) || die "npm config get registry failed: run 'make install' first"
  userconfig=$(npm config get userconfig 2>/dev/null || true)
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    ca=$NODE_EXTRA_CA_CERTS
  elif [ "$(npm config get cafile 2>/dev/null)" != null ] && [ -f "$(npm config get cafile)" ]; then
    ca=$(npm config get cafile)
  fi
  {
    echo "registry=$registry"
    if [ -f "$userconfig" ]; then
      grep -E '^[[:space:]]*(@[^:=]+:registry|//[^=]+|strict-ssl|https-proxy|proxy|noproxy|no-proxy|ca(\[\])?)[[:space:]]*=' "$userconfig" || true
    fi
    [ -z "$ca" ] || echo "cafile=/run/minimesh-build/ca.crt"
  } >"$conf_dir/npmrc"
  build_mounts=(-v "$conf_dir/npmrc:/root/.npmrc:ro")
  [ -z "$ca" ] || build_mounts+=(-v "$ca:/run/minimesh-build/ca.crt:ro")

  local pm corepack_home=${MESH_COREPACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/minimesh/corepack}
  pm=$(node -p 'require(process.argv[1]).packageManager' "$ROOT/package.json")
  mkdir -p "$corepack_home"
  if ! ls "$corepack_home"/v1/"${pm%@*}"/"${pm#*@}"/package.json >/dev/null 2>&1; then
    step "$pm into the corepack cache $corepack_home (for apps/bookinfo/Dockerfile's corepack)"
    # Corepack checks the registry's signature of the package; a registry (or mirror) that serves
    # no signatures leaves only the integrity hash to check, so corepack is told so.
    local keys=()
    if ! node -e '
      fetch(process.argv[1]).then((r) => r.json()).then((m) => process.exit(m.dist?.signatures?.length ? 0 : 1), () => process.exit(2))
    ' "${registry%/}/${pm%@*}/${pm#*@}"; then
      echo "note: $registry serves no signature for $pm: corepack checks its integrity hash only (COREPACK_INTEGRITY_KEYS=0)"
      keys=(-e COREPACK_INTEGRITY_KEYS=0)
    fi
    podman run --rm --pull=never --network=host "${keys[@]}" \
      -v "$corepack_home:/root/.cache/node/corepack" "${build_mounts[@]}" \
      ${ca:+-e NODE_EXTRA_CA_CERTS=/run/minimesh-build/ca.crt} -e COREPACK_NPM_REGISTRY="${registry%/}" \
      -e COREPACK_ENABLE_DOWNLOAD_PROMPT=0 "$(stored_name "$base")" corepack install --global "$pm" ||
      die "corepack could not fetch $pm from $registry"
  fi
  build_mounts+=(-v "$corepack_home:/root/.cache/node/corepack")
}

# With --layers every step of every build leaves a cache image (and where the store is vfs, each is a
# full copy of its root: a cold build of the six leaves tens of GB). Cache images that no current
# build uses any more are removed after a successful run: kind/images.sh records, per image, the
# cache images its last build made or reused (in $state_dir), and removes those recorded before
# that neither the builds of this run nor the last builds of the images it did not build use.
state_dir=${MESH_IMAGE_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/minimesh/image-cache}
state_key() { echo "$1" | tr '/:' '__'; }
prune_stale_cache() {
  mkdir -p "$state_dir"
  local keep="$conf_dir/keep" old="$conf_dir/old" entry key image before removed=0 id
  : >"$keep"
  for entry in "${entries[@]}"; do
    key=$(state_key "${entry%% *}")
    if [ -f "$conf_dir/$key" ]; then cat "$conf_dir/$key" >>"$keep"; elif [ -f "$state_dir/$key" ]; then cat "$state_dir/$key" >>"$keep"; fi
  done
  cat "$state_dir"/* 2>/dev/null | sort -u >"$old" || true
  before=$(df -Pk /var/lib/containers/storage | awk 'NR == 2 { print $4 }')
  # Children before parents: go round while something is removed (an image with children is refused).
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    local progress=0
    for id in $(sort -u "$keep" | comm -23 "$old" -); do
      # Only untagged ones: a tagged image is somebody's image, whatever built it.
      [ "$(podman image inspect --format '{{len .RepoTags}}' "$id" 2>/dev/null || echo gone)" = 0 ] || continue
      if podman rmi "$id" >/dev/null 2>&1; then
        progress=1 removed=$((removed + 1))
      fi
    done
    [ "$progress" = 1 ] || break
  done
  for entry in "${entries[@]}"; do
    key=$(state_key "${entry%% *}")
    [ ! -f "$conf_dir/$key" ] || cp "$conf_dir/$key" "$state_dir/$key"
  done
  if [ "$removed" -gt 0 ]; then
    echo "removed $removed stale cache images ($((($(df -Pk /var/lib/containers/storage | awk 'NR == 2 { print $4 }') - before) / 1048576)) GB freed)"
  fi
}

if [ "$build" = 1 ]; then
  [ "$builder" = docker ] || buildah_setup
  total=$SECONDS
  i=0
  for entry in "${selected[@]}"; do
    i=$((i + 1))
    image=${entry%% *}
    read -r _ dockerfile args <<<"$entry"
    build_args=()
    for arg in $args; do build_args+=(--build-arg "$arg"); done
    [ -f "$ROOT/$dockerfile" ] || die "$dockerfile (the Dockerfile of $image) does not exist"
    start=$SECONDS
    if [ "$builder" = docker ]; then
      step "[$i/${#selected[@]}] $image  (docker build -f $dockerfile ${build_args[*]} .)"
      docker build -f "$ROOT/$dockerfile" "${build_args[@]}" -t "$image" "$ROOT"
    else
      step "[$i/${#selected[@]}] $image  (buildah bud --layers -f $dockerfile ${build_args[*]} .)"
      set +e
      buildah bud --layers --pull=never --isolation=chroot --network=host "${build_mounts[@]}" \
        -f "$ROOT/$dockerfile" "${build_args[@]}" -t "$(stored_name "$image")" "$ROOT" 2>&1 |
        tee "$conf_dir/build.log" |
        grep --line-buffered -v -E '^(Copying (blob|config)|Writing manifest|Storing signatures|Getting image source signatures)'
      rc=${PIPESTATUS[0]}
      set -e
      [ "$rc" = 0 ] || die "buildah bud of $image failed (output above)"
      # The cache images this build made or reused (one per step), for prune_stale_cache.
      sed -n -E 's/^--> (Using cache )?([0-9a-f]{11}).*/\2/p' "$conf_dir/build.log" | sort -u >"$conf_dir/$(state_key "$image")"
    fi
    echo "built $image in $((SECONDS - start))s"
  done
  echo "all ${#selected[@]} built in $((SECONDS - total))s ($builder)"
  [ "$builder" = docker ] || prune_stale_cache
fi

step "images"
for entry in "${selected[@]}"; do
  image=${entry%% *}
  size=$(image_size "$image" 2>/dev/null) || die "image $image is not built: run 'make images'"
  printf '  %-40s %4d MB\n' "$image" $((size / 1000000))
done

if [ -n "$save_dir" ]; then
  step "saving docker-archive tarballs into $save_dir"
  mkdir -p "$save_dir"
  for entry in "${selected[@]}"; do
    image=${entry%% *}
    name=${image##*/}
    out="$save_dir/${name%:*}.tar"
    start=$SECONDS
    rm -f "$out"
    if [ "$builder" = docker ]; then
      docker save -o "$out" "$image"
    else
      podman save --quiet --format docker-archive -o "$out" "$(stored_name "$image")"
    fi
    printf '  %-48s %4d MB  (%ss)\n' "$out" $(($(stat -c %s "$out") / 1000000)) $((SECONDS - start))
  done
fi
