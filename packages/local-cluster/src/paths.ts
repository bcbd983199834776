// Where a local cluster keeps its things. The run directory (default /var/run/minimesh-local, or
// $MINIMESH_LOCAL_RUN_DIR) holds:
//   ledger.json          what was made on the host (netns, veths, bridge, rules, processes)
//   state/               the state directory meshd watches (--config-dir)
//   logs/<ns>/<pod>/<container>.log
//   pods/<ns>/<pod>/volumes/<volume>/
//   supervisor.pid, supervisor.sock, supervisor.log, cluster.json (the options it runs with)
//   serviceaccount/      the ServiceAccount token signing key and its public JWKS (meshd --token-jwks)
//   meshd/               meshd's own state (--state-dir): the mesh CA root in meshd/ca/, a plug-in
//                        CA in meshd/cacerts/; kept across down/up like the token key
import { join } from 'node:path'

export const DEFAULT_RUN_DIR = '/var/run/minimesh-local'

export function defaultRunDir(): string {
  return process.env.MINIMESH_LOCAL_RUN_DIR || DEFAULT_RUN_DIR
}

export function runPaths(runDir: string) {
  return {
    runDir,
    ledger: join(runDir, 'ledger.json'),
    stateDir: join(runDir, 'state'),
    logsDir: join(runDir, 'logs'),
    podsDir: join(runDir, 'pods'),
    pidFile: join(runDir, 'supervisor.pid'),
    socket: join(runDir, 'supervisor.sock'),
    supervisorLog: join(runDir, 'supervisor.log'),
    clusterFile: join(runDir, 'cluster.json'),
    serviceAccountDir: join(runDir, 'serviceaccount'),
    meshdStateDir: join(runDir, 'meshd'),
  }
}

export function podLogDir(runDir: string, namespace: string, pod: string): string {
  return join(runPaths(runDir).logsDir, namespace, pod)
}

export function podVolumeDir(runDir: string, namespace: string, pod: string): string {
  return join(runPaths(runDir).podsDir, namespace, pod, 'volumes')
}
