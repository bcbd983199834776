// `kubectl exec` for the local cluster: a command run in a pod's netns as its container's user,
// with the container's environment.
import { spawn } from 'node:child_process'
import { LocalClusterError } from '../errors.ts'
import { wrapArgv } from './process.ts'

export interface ExecSpec {
  /** The pod's netns; undefined for a pod in the host netns. */
  netns?: string
  uid: number
  gid: number
  env: Record<string, string>
}

export interface ExecResult {
  code: number | null
  stdout: string
  stderr: string
}

/** The full argv (ip netns exec … setpriv … argv) that `exec` runs; the CLI runs it with its own stdio. */
export function execArgv(spec: ExecSpec, argv: string[]): string[] {
  if (argv.length === 0) throw new LocalClusterError('MESH_ERR_LOCAL_INVALID', 'exec: no command given')
  return wrapArgv({ argv, uid: spec.uid, gid: spec.gid, netns: spec.netns })
}

export function execInPod(
  spec: ExecSpec,
  argv: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<ExecResult> {
  const [cmd, ...args] = execArgv(spec, argv)
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, args, {
      env: spec.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 60_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    child.on('error', (err) =>
      reject(
        new LocalClusterError('MESH_ERR_LOCAL_EXEC', `exec ${argv.join(' ')}: ${err.message}`, {
          cause: err,
        }),
      ),
    )
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.on('error', () => {})
    child.stdin.end(opts.input ?? '')
  })
}
