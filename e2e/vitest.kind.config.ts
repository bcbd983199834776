import { defineConfig } from 'vitest/config'

// `pnpm e2e`: the Bookinfo scenarios on the kind cluster "minimesh". The global setup checks for
// Docker and kind (failing fast with what to install), then runs kind/up.sh: create or reuse the
// cluster, build and load the images, `meshctl install`. SKIP_BUILD=1 reuses built images;
// MESH_E2E_SKIP_UP=1 skips kind/up.sh entirely (a cluster you prepared yourself).
export default defineConfig({
  resolve: { conditions: ['@minimesh/source'] },
  ssr: { resolve: { conditions: ['@minimesh/source'] } },
  // The global setup runs in vitest's own `__vitest__` environment, which has its own resolve options.
  environments: { __vitest__: { resolve: { conditions: ['@minimesh/source'] } } },
  test: {
    root: import.meta.dirname,
    include: ['src/scenarios/**/*.e2e.ts'],
    globalSetup: ['src/kind-global-setup.ts'],
    env: { E2E_DRIVER: 'kind' },
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 180_000,
    hookTimeout: 900_000,
    reporters: ['default'],
  },
})
