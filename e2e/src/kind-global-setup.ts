/**
 * Global setup of `pnpm e2e` (vitest.kind.config.ts): fails fast, saying what to install, when
 * Docker or kind is missing; then kind/up.sh creates or reuses the kind cluster "minimesh", builds
 * and loads the images and runs `meshctl install`, with its progress on this terminal.
 */
import { spawn } from 'node:child_process'
import { checkKindPrerequisites, repoRoot } from '@minimesh/cli'

export default async function setup(): Promise<void> {
  const { kindVersion } = await checkKindPrerequisites()
  console.log(`[kind] ${kindVersion}`)
  if (process.env.MESH_E2E_SKIP_UP === '1') return
  const root = repoRoot()
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [`${root}/kind/up.sh`], { cwd: root, stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)))
  })
  if (code !== 0) throw new Error(`kind/up.sh failed (exit ${code}); its output above says why`)
}
