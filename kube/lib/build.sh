# Builds the cluster's programs from source through the Go module proxy and the two images only
# this cluster needs (pause, CoreDNS), caching each under $CACHE by a hash of what it is built
# from: a warm machine relinks nothing, and Go's own module and build caches make a changed
# build incremental.
# shellcheck shell=bash

source_hash() {
  { go version; (cd "$KUBE_DIR" && find "$@" -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
      sort -z | xargs -0 sha256sum); } | sha256sum | cut -c1-16
}

version_ldflags() {
  local flags="-s -w" pkg minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$flags"
}

# go_build <output name> <module dir> <package> <hash inputs…>
go_build() {
  local name=$1 module=$2 pkg=$3; shift 3
  local hash out=$CACHE/bin/$name
  hash=$(source_hash "$@")
  if [ -x "$out" ] && [ "$(cat "$out.hash" 2>/dev/null)" = "$hash" ]; then
    info "$name: cached ($out)"
    return
  fi
  info "$name: building (go build $pkg; a cold build of the Kubernetes components takes 15-25 min on 2 cores)"
  local start=$SECONDS
  mkdir -p "$CACHE/bin"
  (cd "$KUBE_DIR/$module" && CGO_ENABLED=0 go build -trimpath -ldflags "$(version_ldflags)" -o "$out.tmp" "$pkg") ||
    die "building $name failed (see the Go errors above)"
  mv "$out.tmp" "$out" && echo "$hash" >"$out.hash"
  info "$name: built in $((SECONDS - start))s ($(du -m "$out" | cut -f1) MB)"
}

build_programs() {
  step "programs from source: Kubernetes $K8S_VERSION, etcd, CoreDNS, pause"
  command -v go >/dev/null || die "Go is needed to build Kubernetes from source (go 1.24 or newer on PATH)"
  go_build kube . ./cmd/kube go.mod go.sum cmd/kube
  go_build pause . ./cmd/pause cmd/pause
  go_build coredns coredns . coredns
}

# scratch_image <image> <binary> : an image holding one static binary as its entrypoint, saved as
# a docker-archive under $CACHE/images for `ctr import`.
scratch_image() {
  local image=$1 binary=$2 archive=$CACHE/images/${1//[\/:]/_}.tar
  local hash
  hash=$(cat "$CACHE/bin/$binary.hash")
  if [ -f "$archive" ] && [ "$(cat "$archive.hash" 2>/dev/null)" = "$hash" ]; then return; fi
  command -v buildah >/dev/null || die "buildah is needed to build $image (bash scripts/ensure-image-tools.sh installs it)"
  local ctx
  ctx=$(mktemp -d)
  cp "$CACHE/bin/$binary" "$ctx/$binary"
  printf 'FROM scratch\nCOPY %s /%s\nENTRYPOINT ["/%s"]\n' "$binary" "$binary" "$binary" >"$ctx/Containerfile"
  mkdir -p "$CACHE/images"
  STORAGE_DRIVER=${STORAGE_DRIVER:-vfs} BUILDAH_ISOLATION=chroot buildah bud --quiet -t "$image" -f "$ctx/Containerfile" "$ctx" >/dev/null
  rm -f "$archive"
  STORAGE_DRIVER=${STORAGE_DRIVER:-vfs} buildah push --quiet "$image" "docker-archive:$archive:$image"
  echo "$hash" >"$archive.hash"
  rm -rf "$ctx"
  info "$image: built"
}
