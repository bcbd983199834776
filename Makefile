# minimesh — the two commands a user needs: `make demo` and `make test`.
# Every target runs with the checkout's own Node (>= 22; Node 24 fetched from the npm registry
# into .tools/ when the machine's is older) and pnpm first on PATH.
SHELL := /bin/bash
ROOT := $(CURDIR)
TOOLS := $(ROOT)/.tools
export PATH := $(TOOLS)/node/bin:$(TOOLS)/pnpm/bin:$(ROOT)/node_modules/.bin:$(PATH)
# Native addons (the proxy's SO_ORIGINAL_DST helper) build against the headers of the Node that
# runs them; the npm package of Node ships them, so node-gyp never downloads anything.
export npm_config_nodedir := $(shell if [ -d $(TOOLS)/node/include/node ]; then echo $(TOOLS)/node; elif [ -d /usr/include/node ]; then echo /usr; fi)
export NODE_OPTIONS := --conditions=@minimesh/source
export TURBO_TELEMETRY_DISABLED := 1
export DO_NOT_TRACK := 1

.PHONY: all tools install generate build native typecheck lint test test-unit e2e-local e2e-kube kube-up kube-down demo demo-down bench clean help images

help:
	@echo "make demo       Bookinfo with the mesh (local cluster, or kind where Docker works)"
	@echo "make demo-down  remove everything make demo started"
	@echo "make test       install what is needed, then every test (unit, e2e on the local cluster, e2e on real Kubernetes)"
	@echo "make e2e-kube   the e2e suite on a real single-node Kubernetes built from source (root, Go)"
	@echo "make build      compile every package to dist/"
	@echo "make lint       biome and knip"

tools:
	@bash scripts/ensure-tools.sh

node_modules/.modules.yaml: package.json pnpm-workspace.yaml $(wildcard pnpm-lock.yaml) $(wildcard packages/*/package.json apps/bookinfo/*/package.json e2e/package.json bench/package.json) | tools
	pnpm install --frozen-lockfile=$(if $(CI),true,false) --reporter=append-only
	@touch $@

install: tools node_modules/.modules.yaml

generate: install
	pnpm run generate

native: install
	pnpm --filter @minimesh/proxy run --if-present build:native

build: install native
	pnpm run build

typecheck: install
	pnpm run typecheck

lint: install
	pnpm run lint

test: install native
	@bash scripts/test.sh

demo: install native
	@bash scripts/demo.sh up

demo-down: install
	@bash scripts/demo.sh down

clean:
	rm -rf node_modules packages/*/node_modules packages/*/dist apps/bookinfo/*/node_modules apps/bookinfo/*/dist .turbo

# Every image in kind/images.txt (meshd, proxy, the four Bookinfo apps), tagged as the manifests
# name them (0.1.0): with Docker where it answers, else with buildah as root (kind/images.sh). The
# builds compile inside the images, so nothing but Node and npm (to read the registry config) is needed first.
images: tools
	@bash kind/images.sh

# The e2e suite on a real single-node Kubernetes: upstream components built from source through the
# Go module proxy and run as host processes by kube/cluster.sh (root and Go needed; see kube/README.md).
e2e-kube: install native
	@bash scripts/ensure-kube-tools.sh
	pnpm exec vitest run --config e2e/vitest.kube.config.ts

# Just the cluster, with the images and `meshctl install` (kube/up.sh); `make kube-down` removes it.
kube-up: install native
	@bash scripts/ensure-kube-tools.sh
	@bash kube/up.sh

kube-down:
	@bash kube/cluster.sh down
