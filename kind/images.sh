#!/usr/bin/env bash
# `make images`: builds every image in kind/images.txt with its stated tag, from the repository
# root as the build context. Name images to build only those:
#   bash kind/images.sh minimesh/proxy:0.1.0
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_docker
export BUILDKIT_PROGRESS=${BUILDKIT_PROGRESS:-plain}

mapfile -t entries < <(image_list) || die "kind/images.txt is malformed (want '<image> <Dockerfile> [ARG=value ...]' per line)"
selected=()
for entry in "${entries[@]}"; do
  image=${entry%% *}
  if [ $# -eq 0 ] || printf '%s\n' "$@" | grep -qxF "$image"; then selected+=("$entry"); fi
done
[ ${#selected[@]} -gt 0 ] || die "no image in kind/images.txt matches: $*"

i=0
for entry in "${selected[@]}"; do
  i=$((i + 1))
  image=${entry%% *}
  read -r _ dockerfile args <<<"$entry"
  build_args=()
  for arg in $args; do build_args+=(--build-arg "$arg"); done
  [ -f "$ROOT/$dockerfile" ] || die "$dockerfile (the Dockerfile of $image) does not exist"
  step "[$i/${#selected[@]}] $image  (docker build -f $dockerfile ${build_args[*]} .)"
  start=$SECONDS
  docker build -f "$ROOT/$dockerfile" "${build_args[@]}" -t "$image" "$ROOT"
  echo "built $image in $((SECONDS - start))s"
done

step "images"
for entry in "${selected[@]}"; do
  image=${entry%% *}
  size=$(docker image inspect --format '{{.Size}}' "$image")
  printf '  %-40s %4d MB\n' "$image" $((size / 1000000))
done
