import type { ClusterDriver } from './driver.ts'

/**
 * The driver the running config chose: E2E_DRIVER=local (default), kind, or kube (the single-node
 * cluster of kube/cluster.sh, reached through its admin kubeconfig).
 */
export async function currentDriver(): Promise<ClusterDriver> {
  const name = process.env.E2E_DRIVER ?? 'local'
  if (name === 'kind') return new (await import('./drivers/kube.ts')).KubeDriver()
  if (name === 'kube') {
    const { KubeDriver } = await import('./drivers/kube.ts')
    const { kubeClusterTarget } = await import('./kube-cluster.ts')
    return new KubeDriver(kubeClusterTarget())
  }
  if (name === 'local') return new (await import('./drivers/local.ts')).LocalDriver()
  throw new Error(`E2E_DRIVER must be "local", "kind" or "kube", got ${JSON.stringify(name)}`)
}
