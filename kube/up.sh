#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# What kind/up.sh does for kind, on the single-node cluster of kube/cluster.sh: build the project's
# images (`make images`: buildah where no Docker engine runs), bring the cluster up with them in
# containerd, then `meshctl install` through its kubeconfig. `bash kube/cluster.sh down` undoes it.
#   SKIP_BUILD=1   use the images already built
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
export PATH="$ROOT/.tools/node/bin:$ROOT/.tools/pnpm/bin:$ROOT/node_modules/.bin:$PATH"
[ -d "$ROOT/node_modules" ] || die "the workspace is not installed: run 'make install' first"

archives=$CACHE/project-images
mkdir -p "$archives"
if [ "${SKIP_BUILD:-}" = 1 ]; then
  step "the project's images, as built, saved for containerd"
  bash "$ROOT/kind/images.sh" --no-build --save "$archives"
else
  step "the project's images (make images), saved for containerd"
  bash "$ROOT/kind/images.sh" --save "$archives"
fi

bash "$KUBE_DIR/cluster.sh" up "$archives"/*.tar

step "meshctl install (kubeconfig $KUBECONFIG_ADMIN)"
# The gateway Service gets node port 30080: http://$NODE_IP:30080 through kube-proxy.
node --conditions=@minimesh/source "$ROOT/packages/cli/src/main.ts" install \
  --kubeconfig "$KUBECONFIG_ADMIN" --gateway-node-port 30080
