/** meshctl from this checkout as a process of its own, as a user runs it. */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '@minimesh/cli'

export interface MeshctlResult {
  code: number
  stdout: string
  stderr: string
  /** stdout and stderr interleaved as they came. */
  output: string
}

export function runMeshctl(args: string[]): Promise<MeshctlResult> {
  const root = repoRoot()
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@minimesh/source', join(root, 'packages/cli/src/main.ts'), ...args],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stdout = ''
    let stderr = ''
    let output = ''
    child.stdout.on('data', (d) => {
      stdout += d
      output += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
      output += d
    })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr, output }))
  })
}
