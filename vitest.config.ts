import { existsSync, readdirSync } from 'node:fs'
import { configDefaults, defineConfig } from 'vitest/config'

// One vitest project per workspace package; tests run on source through the
// `@minimesh/source` export condition, so nothing needs building first.
const dirs = ['packages', 'apps/bookinfo', 'tools']
  .flatMap((parent) =>
    readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(`${parent}/${d.name}/package.json`))
      .map((d) => `${parent}/${d.name}`),
  )
  .concat(['e2e', 'bench'])

export default defineConfig({
  resolve: { conditions: ['@minimesh/source'] },
  ssr: { resolve: { conditions: ['@minimesh/source'] } },
  test: {
    reporters: ['default'],
    projects: dirs.map((dir) => ({
      extends: true,
      test: {
        name: dir.split('/').pop()!,
        root: dir,
        include: ['src/**/*.test.ts'],
        // The image tests (e2e/src/images) start containers; they run after `make images`
        // (scripts/test-images.sh). tools/images checks the Dockerfiles without Docker: it runs here.
        exclude: [...configDefaults.exclude, 'src/images/**'],
        testTimeout: 20_000,
      },
    })),
  },
})
