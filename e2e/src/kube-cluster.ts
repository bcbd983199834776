/**
 * The single-node cluster of kube/cluster.sh, as the e2e suite reaches it: its admin kubeconfig
 * (under the cluster's state dir, $MESH_KUBE_STATE) and the gateway's node port on the node's
 * address. The names here are kube/lib/common.sh's.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '@minimesh/cli'
import type { KubeClusterTarget } from './drivers/kube.ts'
import { type MeshctlResult, runMeshctl } from './meshctl.ts'

const STATE = process.env.MESH_KUBE_STATE ?? '/var/lib/minimesh-kube'
/** The node's address (kube/lib/common.sh's NODE_IP): the host, as pods and this process reach it. */
export const NODE_IP = '10.245.0.1'
export const GATEWAY_NODE_PORT = 30080

export function kubeClusterTarget(): KubeClusterTarget {
  return {
    name: 'kube',
    kubeconfig: join(STATE, 'admin.kubeconfig'),
    context: 'minimesh-kube',
    gatewayUrl: `http://${NODE_IP}:${GATEWAY_NODE_PORT}`,
  }
}

/** Runs one of kube/'s scripts with its progress on this terminal; rejects on a non-zero exit. */
export async function runKubeScript(script: string, args: string[] = []): Promise<void> {
  const root = repoRoot()
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn('bash', [join(root, 'kube', script), ...args], { cwd: root, stdio: 'inherit' })
    child.on('error', reject)
    child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)))
  })
  if (code !== 0)
    throw new Error(`kube/${script} ${args.join(' ')} failed (exit ${code}); its output above says why`)
}

/** Runs meshctl from this checkout against the cluster (as a user would, a process of its own). */
export function meshctlOn(target: KubeClusterTarget, args: string[]): Promise<MeshctlResult> {
  return runMeshctl([...args, '--kubeconfig', target.kubeconfig!])
}
