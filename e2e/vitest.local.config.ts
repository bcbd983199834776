import { defineConfig } from 'vitest/config'

// `pnpm e2e:local`: the Bookinfo scenarios on the local cluster (root: network namespaces, iptables).
export default defineConfig({
  resolve: { conditions: ['@minimesh/source'] },
  ssr: { resolve: { conditions: ['@minimesh/source'] } },
  test: {
    root: import.meta.dirname,
    include: ['src/scenarios/**/*.e2e.ts'],
    env: { E2E_DRIVER: 'local' },
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 120_000,
    hookTimeout: 600_000,
    reporters: ['default'],
  },
})
