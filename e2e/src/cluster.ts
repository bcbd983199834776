import type { ClusterDriver } from './driver.ts'

/** The driver the running config chose: E2E_DRIVER=local (default) or kind. */
export async function currentDriver(): Promise<ClusterDriver> {
  const name = process.env.E2E_DRIVER ?? 'local'
  if (name === 'kind') return new (await import('./drivers/kind.ts')).KindDriver()
  if (name === 'local') return new (await import('./drivers/local.ts')).LocalDriver()
  throw new Error(`E2E_DRIVER must be "local" or "kind", got ${JSON.stringify(name)}`)
}
