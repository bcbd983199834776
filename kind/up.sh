#!/usr/bin/env bash
# Creates (or reuses) the kind cluster "minimesh", builds the images (`make images`), loads them
# into the cluster and installs minimesh with `meshctl install`. Safe to run again.
#   SKIP_BUILD=1        use the images already built
#   KIND_NODE_IMAGE=…   the kindest/node image (Kubernetes version) for a new cluster
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_docker
require_kind
require_workspace

step "kind cluster '$CLUSTER'"
if cluster_exists; then
  echo "reusing the existing cluster (bash kind/down.sh removes it)"
  kind export kubeconfig --name "$CLUSTER"
  if ! docker port "$CLUSTER-control-plane" 30080/tcp >/dev/null 2>&1; then
    echo "warning: this cluster was not made from kind/cluster.yaml: its port 30080 is not published," \
      "so $GATEWAY_URL will not reach the gateway. Recreate it: bash kind/down.sh && bash kind/up.sh" >&2
  fi
else
  kind create cluster --config "$ROOT/kind/cluster.yaml" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
fi

if [ "${SKIP_BUILD:-}" != 1 ]; then
  step "building the images (make images)"
  bash "$ROOT/kind/images.sh"
fi

step "loading the images into the cluster"
mapfile -t images < <(image_list | awk '{ print $1 }')
for image in "${images[@]}"; do
  docker image inspect "$image" >/dev/null 2>&1 || die "image $image is not built: run 'make images' (or drop SKIP_BUILD=1)"
done
kind load docker-image --name "$CLUSTER" "${images[@]}"

step "meshctl install (context $CONTEXT)"
# The gateway Service gets node port 30080, which kind/cluster.yaml publishes as localhost:8080.
meshctl install --context "$CONTEXT" --gateway-node-port 30080
