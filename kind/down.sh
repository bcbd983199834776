#!/usr/bin/env bash
# Removes what kind/up.sh and kind/demo.sh made: the kind cluster "minimesh" (and with it minimesh
# and Bookinfo). With --images, also the images `make images` built.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_kind

if cluster_exists; then
  step "deleting the kind cluster '$CLUSTER'"
  kind delete cluster --name "$CLUSTER"
else
  echo "no kind cluster '$CLUSTER': nothing to delete"
fi

if [ "${1:-}" = --images ]; then
  require_docker
  step "removing the images"
  image_list | awk '{ print $1 }' | while read -r image; do
    docker image rm "$image" 2>/dev/null && echo "removed $image" || echo "not present: $image"
  done
fi
