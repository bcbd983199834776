// The edge to the host's tools (ip, iptables-restore, sysctl files): a small interface with a real
// implementation and a recording one that tests use to see exactly what would run.
import { spawn } from 'node:child_process'
import { INSTALL_HOST_TOOLS_HINT, LocalClusterError } from '../errors.ts'

export interface HostExec {
  /** Runs argv; rejects with LocalClusterError MESH_ERR_LOCAL_EXEC on a non-zero exit. */
  run(argv: readonly string[], input?: string): Promise<string>
}

/** Runs commands for real (the caller is root). */
export class SpawnExec implements HostExec {
  run(argv: readonly string[], input?: string): Promise<string> {
    const [cmd, ...args] = argv
    if (cmd === undefined) return Promise.reject(new Error('SpawnExec: empty argv'))
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d
      })
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d
      })
      child.on('error', (error: NodeJS.ErrnoException) => {
        const missing = error.code === 'ENOENT'
        reject(
          new LocalClusterError(
            missing ? 'MESH_ERR_LOCAL_MISSING_TOOL' : 'MESH_ERR_LOCAL_EXEC',
            missing ? `${cmd} is not installed; install it with: ${INSTALL_HOST_TOOLS_HINT}` : error.message,
            { cause: error },
          ),
        )
      })
      child.on('close', (code) => {
        if (code === 0) resolve(stdout)
        else
          reject(
            new LocalClusterError(
              'MESH_ERR_LOCAL_EXEC',
              `${argv.join(' ')} exited with ${code}: ${(stderr.trim() || stdout.trim()).split('\n')[0]}`,
            ),
          )
      })
      child.stdin.on('error', () => {})
      child.stdin.end(input ?? '')
    })
  }
}

/** Records what would run and answers with canned output (empty by default). A fake for pure tests. */
export class RecordingExec implements HostExec {
  readonly calls: { argv: string[]; input?: string }[] = []
  readonly #answers: ((argv: readonly string[]) => string | undefined)[] = []

  answer(fn: (argv: readonly string[]) => string | undefined): this {
    this.#answers.push(fn)
    return this
  }

  async run(argv: readonly string[], input?: string): Promise<string> {
    this.calls.push(input === undefined ? { argv: [...argv] } : { argv: [...argv], input })
    for (const a of this.#answers) {
      const out = a(argv)
      if (out !== undefined) return out
    }
    return ''
  }
}
