#!/usr/bin/env bash
# `make test`: type check, lint, unit tests (vitest), then the e2e suite on the local cluster and on
# a real single-node Kubernetes built from source.
# Prints vitest's own summaries and, last, one plain line: `summary: N passed, N failed, N skipped`.
set -uo pipefail
cd "$(dirname "$0")/.."
results=${MINIMESH_TEST_RESULTS:-$(mktemp -d)}
mkdir -p "$results"
[ -n "${MINIMESH_TEST_RESULTS:-}" ] || trap 'rm -rf "$results"' EXIT
status=0

step() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" = 0 ] && [ -f scripts/ensure-host-deps.sh ]; then
  step "host tools for network namespaces (iproute2, iptables)"
  bash scripts/ensure-host-deps.sh || status=1
fi

step "Zipkin server for the tracing tests (Maven Central, cached in ~/.cache/minimesh)"
# The proxy's tracing tests and the e2e tracing scenario export to a real Zipkin; without Java or
# Maven they say so and are skipped.
bash scripts/ensure-zipkin.sh >/dev/null || echo "Zipkin could not be fetched: the tracing tests that need it will say they are skipped"

step "Jaeger (an OTLP receiver) for the OTLP tracing tests (built from source with Go, cached in ~/.cache/minimesh)"
# The proxy's OTLP export test sends to a real Jaeger v2 and reads traces back from its API. Only
# this step builds it (cold: about 10 minutes of CPU); without Go the test says it is skipped, except in
# CI, where it fails.
bash scripts/ensure-jaeger.sh >/dev/null || echo "Jaeger could not be built: the OTLP export test will say why"

step "generated code is current"
node packages/api/src/discovery/generate.ts --check || status=1

step "type check"
pnpm run --silent typecheck || status=1

step "lint"
pnpm exec biome check --reporter=summary . || status=1

step "unit tests"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results/unit.json" || status=1

if [ -f e2e/vitest.local.config.ts ]; then
  step "e2e on the local cluster"
  if [ "$(id -u)" != 0 ]; then
    echo "e2e:local needs root (network namespaces and iptables); skipped. Run 'sudo make test' to include it."
  else
    pnpm exec vitest run --config e2e/vitest.local.config.ts --reporter=default --reporter=json --outputFile.json="$results/e2e.json" || status=1
  fi
fi

if [ -f scripts/test-images.sh ]; then
  step "image tests: make images, then each image started with testcontainers"
  if [ "$(id -u)" = 0 ]; then
    if bash scripts/test-images.sh --reporter=default --reporter=json --outputFile.json="$results/images.json"; then
      images_built=1
    else
      status=1
    fi
  elif [ "${CI:-}" = true ]; then
    echo "image tests need root (buildah and podman) and are required in CI: run as root"
    status=1
  else
    echo "image tests need root (building with buildah, running with podman); skipped. Run 'sudo make test' to include them."
  fi
fi

# The e2e suite on a real single-node Kubernetes (kube/cluster.sh: upstream components built from
# source). Needs root and Go; required in CI (CI=true), where a host that cannot run it fails.
kube_e2e_blocker() {
  [ "$(id -u)" = 0 ] || { echo "it needs root (kubelet, containerd, kube-proxy, mounts); run 'sudo make test'"; return; }
  command -v go >/dev/null || { echo "it needs Go 1.24 or newer on PATH to build Kubernetes from source"; return; }
}
if [ -f e2e/vitest.kube.config.ts ]; then
  step "e2e on real Kubernetes (kube/cluster.sh)"
  blocker=$(kube_e2e_blocker)
  if [ -n "$blocker" ]; then
    if [ -n "${CI:-}" ]; then
      echo "e2e on real Kubernetes is required in CI, but $blocker"
      status=1
    else
      echo "e2e on real Kubernetes skipped: $blocker"
    fi
  else
    bash scripts/ensure-kube-tools.sh || status=1
    # The image tests have just built the images: kube/up.sh does not build them again.
    SKIP_BUILD=${images_built:+1} pnpm exec vitest run --config e2e/vitest.kube.config.ts --reporter=default --reporter=json --outputFile.json="$results/kube.json" || status=1
  fi
fi

# The reports stay in $MINIMESH_TEST_RESULTS (default: a fresh temporary directory) so a failed run
# can be read afterwards; the failed tests are named here, before the summary line.
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0;
  const failed = [];
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + (r.numTodoTests || 0);
    for (const suite of r.testResults) {
      const where = suite.name.replace(process.cwd() + "/", "");
      const tests = suite.assertionResults.filter((t) => t.status === "failed");
      // A file that failed before any test ran (an import error, a failing hook) counts as one failure.
      if (suite.status === "failed" && tests.length === 0) {
        f += 1;
        failed.push(`${where}: ${(suite.message || "failed before its tests ran").split("\n")[0]}`);
      }
      for (const t of tests) failed.push(`${where} > ${t.fullName}: ${(t.failureMessages[0] || "").split("\n")[0]}`);
    }
  }
  if (failed.length > 0) console.log(`\nfailed:\n${failed.map((l) => `  - ${l.slice(0, 400)}`).join("\n")}`);
  console.log(`\nsummary: ${p} passed, ${f} failed, ${s} skipped`);
' "$results/unit.json" "$results/e2e.json" "$results/images.json" "$results/kube.json"
exit $status
