// A real mesh for CLI tests: meshd as a process reading a config directory, and mesh-proxy sidecar
// processes connected to it over gRPC, every port chosen by the kernel (no root, no netns).
import { type ChildProcess, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

const MESHD = fileURLToPath(new URL('../../../control-plane/src/main.ts', import.meta.url))
const MESH_PROXY = fileURLToPath(new URL('../../../proxy/src/main.ts', import.meta.url))

export interface Proc {
  child: ChildProcess
  output: () => string
}

function start(file: string, args: string[], env: NodeJS.ProcessEnv, ready: (line: string) => boolean) {
  const child = spawn(process.execPath, ['--conditions=@minimesh/source', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let all = ''
  return new Promise<{ proc: Proc; line: string }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${file} did not start in 20s: ${all}`)), 20_000)
    const onData = (d: Buffer) => {
      all += d
      const line = all.split('\n').find(ready)
      if (line) {
        clearTimeout(t)
        resolve({ proc: { child, output: () => all }, line })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(t)
      reject(new Error(`${file} exited ${code}: ${all}`))
    })
  })
}

export async function startMeshd(configDir: string): Promise<Proc & { grpc: string; monitoring: string }> {
  const { proc, line } = await start(
    MESHD,
    [
      '--config-dir',
      configDir,
      '--grpc-address',
      '127.0.0.1:0',
      '--secure-grpc-address',
      '127.0.0.1:0',
      '--monitoring-address',
      '127.0.0.1:0',
      '--webhook-address',
      '127.0.0.1:0',
    ],
    {},
    (l) => l.includes('"meshd listening"'),
  )
  const a = JSON.parse(line) as { grpc: string; monitoring: string }
  return { ...proc, grpc: a.grpc, monitoring: a.monitoring }
}

/** mesh-proxy's own ports (admin, stats, health, Prometheus), each chosen by the kernel. */
export const KERNEL_PORTS = [
  '--admin-port',
  '0',
  '--stats-port',
  '0',
  '--health-port',
  '0',
  '--prom-port',
  '0',
]

/** mesh-proxy with these arguments, once it says it started: its ports and admin address. */
export async function startProxy(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Proc & { admin: string; ports: { admin: number; health: number } }> {
  const { proc, line } = await start(MESH_PROXY, args, env, (l) => l.includes('mesh-proxy started'))
  const ports = (JSON.parse(line) as { ports: { admin: number; health: number } }).ports
  return { ...proc, ports, admin: `127.0.0.1:${ports.admin}` }
}

export function startSidecar(
  discovery: string,
  pod: { name: string; namespace: string; ip: string; labels: Record<string, string> },
): Promise<Proc & { admin: string }> {
  return startProxy(
    [
      'sidecar',
      '--discovery-address',
      discovery,
      ...KERNEL_PORTS,
      '--outbound-port',
      '0',
      '--inbound-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--access-log',
      'off',
    ],
    {
      POD_NAME: pod.name,
      POD_NAMESPACE: pod.namespace,
      INSTANCE_IP: pod.ip,
      MESH_POD_LABELS: JSON.stringify(pod.labels),
    },
  )
}

/** Writes objects as one YAML file in meshd's config directory. */
export function writeConfig(dir: string, file: string, objects: object[]): void {
  writeFileSync(join(dir, file), objects.map((o) => stringify(o)).join('---\n'))
}

export function stop(...procs: (Proc | undefined)[]): void {
  for (const p of procs) if (p && p.child.exitCode === null) p.child.kill('SIGKILL')
}
