/**
 * Global setup of `make e2e-kube` (vitest.kube.config.ts): kube/up.sh builds the images, brings
 * up the single-node cluster of upstream components (built from source) and runs `meshctl
 * install`; the teardown removes the cluster again unless MESH_E2E_KEEP=1.
 * MESH_E2E_SKIP_UP=1 runs the scenarios against a cluster brought up beforehand.
 */
import { runKubeScript } from './kube-cluster.ts'

export default async function setup(): Promise<() => Promise<void>> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the e2e suite on real Kubernetes needs root (it runs kubelet, containerd and kube-proxy)',
    )
  if (process.env.MESH_E2E_SKIP_UP !== '1') await runKubeScript('up.sh')
  return async () => {
    if (process.env.MESH_E2E_KEEP === '1' || process.env.MESH_E2E_SKIP_UP === '1') return
    await runKubeScript('cluster.sh', ['down'])
  }
}
