import { defineConfig } from 'vitest/config'

// The image tests (scripts/test-images.sh runs them after `make images`): every image of
// kind/images.txt started with testcontainers against a Docker API (Docker, or podman's socket).
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['src/images/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
    reporters: ['default'],
  },
})
