// The local cluster's supervisor process (started detached by `meshctl local up`):
//   node src/main.ts --run-dir DIR [--options JSON]
// Starts the cluster, serves it on DIR/supervisor.sock, writes DIR/supervisor.pid, and on
// SIGTERM/SIGINT or a /v1/down request takes everything down and exits.
import { rmSync, writeFileSync } from 'node:fs'
import { LocalCluster } from './cluster.ts'
import { LocalClusterError } from './errors.ts'
import { processStartTime } from './ledger.ts'
import { createLogger } from './log.ts'
import { runPaths } from './paths.ts'
import { parseSupervisorArgs } from './supervisor/args.ts'
import { serveCluster } from './supervisor/server.ts'

let args: ReturnType<typeof parseSupervisorArgs>
try {
  args = parseSupervisorArgs(process.argv.slice(2))
} catch (err) {
  if (!(err instanceof LocalClusterError)) throw err
  process.stderr.write(`minimesh-local: ${err.message} [${err.code}]\n`)
  process.exit(2)
}
const { runDir, options } = args
const paths = runPaths(runDir)
const log = createLogger({ file: paths.supervisorLog })

let cluster: LocalCluster
try {
  cluster = await LocalCluster.start({ ...options, runDir, logger: log })
} catch (err) {
  const e = err as Error & { code?: string }
  log.error({ err }, 'local cluster did not start')
  process.stderr.write(`minimesh-local: ${e.message} [${e.code ?? 'MESH_ERR_LOCAL_SUPERVISOR'}]\n`)
  process.exit(1)
}

let exiting = false
const exit = async (code: number) => {
  if (exiting) return
  exiting = true
  await server.close().catch(() => {})
  await cluster.down().catch((err) => log.error({ err }, 'down failed'))
  rmSync(paths.pidFile, { force: true })
  process.exit(code)
}
const server = await serveCluster(cluster, paths.socket, () => void exit(0))
writeFileSync(paths.pidFile, `${process.pid} ${processStartTime(process.pid) ?? ''}\n`)
log.info({ pid: process.pid, socket: paths.socket }, 'supervisor ready')
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void exit(0))
process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception (the cluster keeps running)'))
process.on('unhandledRejection', (err) =>
  log.error({ err }, 'unhandled rejection (the cluster keeps running)'),
)
