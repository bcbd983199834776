import { defineConfig } from 'vitest/config'
import kind from './vitest.kind.config.ts'

// `make e2e-kube` (`pnpm e2e:kube`): the same scenarios as `pnpm e2e`, through the same driver, on
// the single-node cluster of kube/cluster.sh (upstream Kubernetes built from source, run as host
// processes), plus what only a real cluster shows (*.kube.ts). The global setup runs kube/up.sh
// (images, cluster, `meshctl install`) and the teardown `kube/cluster.sh down`.
// SKIP_BUILD=1 reuses built images; MESH_E2E_SKIP_UP=1 uses a cluster already up; MESH_E2E_KEEP=1 keeps it.
export default defineConfig({
  ...kind,
  test: {
    ...kind.test,
    include: ['src/scenarios/**/*.e2e.ts', 'src/scenarios/**/*.kube.ts'],
    globalSetup: ['src/kube-global-setup.ts'],
    env: { E2E_DRIVER: 'kube' },
  },
})
