// Waiting for configuration to reach the proxies, in two steps a user can be told about:
//   1. meshd has read the change: every mesh resource at the resourceVersion the cluster holds
//      (deleted ones gone), so its snapshot includes it;
//   2. every proxy has ACKed configuration generated from that snapshot (or a later one).
import type { KubeObject } from '@minimesh/api/kube'
import {
  type Configz,
  type ConfigzObject,
  findConfig,
  type HeldVersion,
  hasRead,
  MESH_RESOURCE_KINDS,
  proxiesSynced,
  type SynczProxy,
} from './configz.ts'
import { LocalTarget, type MeshKind, type MeshTarget, MeshTargetError } from './target.ts'

/** A resource and the version meshd must have read (`resourceVersion: null`: meshd must no longer have it). */
export interface WantedVersion extends Omit<HeldVersion, 'resourceVersion'> {
  kind: string
  namespace?: string
  name: string
  resourceVersion: string | null
}

/** The version of a live object that meshd must have read. */
export function wantedVersion(o: KubeObject): WantedVersion {
  const meta = o.metadata as KubeObject['metadata'] & { uid?: string; generation?: number }
  return {
    kind: o.kind,
    namespace: meta.namespace ?? 'default',
    name: meta.name,
    resourceVersion: String(meta.resourceVersion ?? ''),
    ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}),
    ...(typeof meta.generation === 'number' ? { generation: meta.generation } : {}),
  }
}

export interface SyncOptions {
  timeoutMs: number
  onProgress?: (message: string) => void
  intervalMs?: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function describeWanted(w: WantedVersion): string {
  return `${w.kind} ${w.namespace ?? 'default'}/${w.name}`
}

/** The resourceVersions of every mesh resource the cluster holds now (what meshd must catch up with). */
export async function clusterVersions(target: MeshTarget): Promise<WantedVersion[]> {
  const out: WantedVersion[] = []
  for (const kind of MESH_RESOURCE_KINDS) {
    let items: KubeObject[]
    try {
      items = await target.list(kind as MeshKind)
    } catch (err) {
      // A cluster without minimesh's CRDs has none of that kind.
      if (/not found|could not find|404/i.test((err as Error).message)) continue
      throw err
    }
    for (const o of items) out.push(wantedVersion({ ...o, kind }))
  }
  return out
}

/**
 * Polls /debug/configz until meshd has read every wanted version (and, with `exhaustive`, holds no
 * other mesh resource: one deleted from the cluster is gone). Resolves with that configz.
 */
export async function waitMeshdRead(
  target: MeshTarget,
  wanted: readonly WantedVersion[],
  opts: SyncOptions & { exhaustive?: boolean },
): Promise<Configz> {
  const until = Date.now() + opts.timeoutMs
  let last = ''
  for (;;) {
    const configz = await target.meshd<Configz>('/debug/configz')
    const behind: string[] = []
    for (const w of wanted) {
      const o = findConfig(configz, w.kind, w.namespace, w.name)
      const read =
        w.resourceVersion === null
          ? o === undefined
          : hasRead(o, { ...w, resourceVersion: w.resourceVersion })
      if (!read) behind.push(describeWanted(w))
    }
    if (opts.exhaustive) {
      const known = new Set(wanted.map((w) => `${w.kind}/${w.namespace ?? 'default'}/${w.name}`))
      for (const o of configz.objects)
        if (MESH_RESOURCE_KINDS.has(o.kind) && !known.has(`${o.kind}/${o.namespace ?? 'default'}/${o.name}`))
          behind.push(`${o.kind} ${o.namespace ?? 'default'}/${o.name} (deleted)`)
    }
    if (behind.length === 0 && configz.snapshot) return configz
    const message = configz.snapshot
      ? `meshd has not read ${behind.slice(0, 3).join(', ')}${behind.length > 3 ? ` and ${behind.length - 3} more` : ''} yet`
      : 'meshd has not built its first snapshot yet'
    if (message !== last) opts.onProgress?.(message)
    last = message
    if (Date.now() > until)
      throw new MeshTargetError(
        'MESH_ERR_CLI_SYNC_TIMEOUT',
        `timed out after ${opts.timeoutMs / 1000}s: ${message} (see meshd's log: ${target instanceof LocalTarget ? 'meshctl local logs -n minimesh-system <meshd pod>' : 'kubectl logs -n minimesh-system deploy/meshd'})`,
      )
    await sleep(opts.intervalMs ?? 100)
  }
}

/**
 * Polls /debug/syncz until every proxy has ACKed configuration from snapshot `snapshot` or later,
 * twice in a row; on timeout, says which proxies have not and why (their last NACK).
 */
export async function waitProxiesSynced(
  target: MeshTarget,
  snapshot: number,
  opts: SyncOptions & { allowNoProxies?: boolean },
): Promise<SynczProxy[]> {
  const until = Date.now() + opts.timeoutMs
  let streak = 0
  let last = ''
  for (;;) {
    const syncz = await target.meshd<SynczProxy[]>('/debug/syncz')
    const state =
      opts.allowNoProxies && Array.isArray(syncz) && syncz.length === 0
        ? { done: true, message: 'no proxy is connected' }
        : proxiesSynced(syncz, snapshot)
    streak = state.done ? streak + 1 : 0
    if (streak >= 2) return syncz
    if (!state.done && state.message !== last) opts.onProgress?.(state.message)
    last = state.message
    if (Date.now() > until)
      throw new MeshTargetError(
        'MESH_ERR_CLI_SYNC_TIMEOUT',
        `timed out after ${opts.timeoutMs / 1000}s waiting for proxies to ACK snapshot ${snapshot}: ${state.message} (meshctl proxy-status shows every proxy)`,
      )
    await sleep(opts.intervalMs ?? 250)
  }
}

/** The rejected ones among `wanted`, as meshd reported them. */
export function rejectedAmong(configz: Configz, wanted: readonly WantedVersion[]): ConfigzObject[] {
  return wanted.flatMap((w) => {
    if (w.resourceVersion === null) return []
    const o = findConfig(configz, w.kind, w.namespace, w.name)
    return o?.state === 'rejected' ? [o] : []
  })
}
