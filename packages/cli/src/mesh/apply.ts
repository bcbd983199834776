// Applying and deleting as a user does it, on either cluster kind, and then asking meshd what it
// made of the mesh resources among them: a warning for each it rejected (the previous version
// keeps serving) and, with --wait, returning only once every proxy has ACKed the change.

import { outcomeText } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { KINDS, kindByName } from '@minimesh/local-cluster'
import type { CommandIo } from '../commands/types.ts'
import { applyOrder } from '../install/apply.ts'
import { type Configz, MESH_RESOURCE_KINDS } from './configz.ts'
import { rejectedAmong, type WantedVersion, waitMeshdRead, waitProxiesSynced, wantedVersion } from './sync.ts'
import { KubeTarget, LocalTarget, type MeshTarget, MeshTargetError } from './target.ts'

/** What apply did to one object, as kubectl says it. */
export interface Applied {
  ref: { kind: string; name: string; namespace?: string }
  action: string
  warnings?: string[]
}

/** The field manager of `meshctl apply` on Kubernetes (not `meshctl`, which owns what install applies). */
const APPLY_FIELD_MANAGER = 'meshctl-apply'

export function printApplied(io: CommandIo, results: readonly Applied[]): void {
  for (const r of results) {
    io.out(`${r.ref.kind.toLowerCase()}/${r.ref.name} ${r.action}\n`)
    for (const w of r.warnings ?? []) io.err(`Warning: ${w}\n`)
  }
}

function namespaced(kind: string): boolean {
  return KINDS.find((k) => k.kind === kind)?.namespaced ?? true
}

/**
 * Applies objects to the cluster of `target`: the local cluster's own apply (its admission
 * webhooks run), or server-side apply through the API server (its admission webhooks run),
 * CRDs and Namespaces first. Prints kubectl's line per object.
 */
export async function applyObjects(
  io: CommandIo,
  target: MeshTarget,
  objects: readonly Record<string, unknown>[],
): Promise<Applied[]> {
  if (target instanceof LocalTarget) {
    const results = await target.client.apply(objects)
    printApplied(io, results)
    return results
  }
  if (!(target instanceof KubeTarget))
    throw new MeshTargetError(
      'MESH_ERR_CLI_TARGET',
      'apply needs a cluster: use --local or a kubeconfig (--meshd reaches meshd only)',
    )
  const out: Applied[] = []
  for (const input of applyOrder(objects as KubeObject[])) {
    const obj: KubeObject =
      input.metadata.namespace || !namespaced(input.kind)
        ? input
        : { ...input, metadata: { ...input.metadata, namespace: 'default' } }
    const ref = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    }
    const before = await target.kube.read(ref)
    const after = await target.kube.apply(obj, true, APPLY_FIELD_MANAGER)
    const action = !before
      ? 'created'
      : before.metadata.resourceVersion === after.metadata.resourceVersion
        ? 'unchanged'
        : 'configured'
    const applied = { ref: { kind: ref.kind, name: ref.name, namespace: ref.namespace }, action }
    printApplied(io, [applied])
    out.push(applied)
  }
  return out
}

/**
 * After apply or delete: asks meshd what it made of the mesh resources among `refs` (a warning for
 * each rejected one) and, with `wait`, waits until every proxy has ACKed configuration with the
 * change. Returns the exit code: 1 when, waiting, a resource was rejected.
 */
export async function checkWithMeshd(
  io: CommandIo,
  target: MeshTarget,
  refs: readonly Applied['ref'][],
  opts: { wait: boolean; timeoutMs: number; deleted?: boolean },
): Promise<number> {
  const mesh = refs.filter((r) => MESH_RESOURCE_KINDS.has(r.kind))
  if (mesh.length === 0 && !opts.wait) return 0
  const wanted: WantedVersion[] = []
  for (const r of mesh) {
    const ns = r.namespace ?? 'default'
    const [obj] = opts.deleted ? [] : await target.get(kindByName(r.kind), ns, r.name)
    wanted.push(
      obj ? wantedVersion(obj) : { kind: r.kind, namespace: ns, name: r.name, resourceVersion: null },
    )
  }
  const progress = (m: string) => (opts.wait ? io.err(`  waiting: ${m}\n`) : undefined)
  let configz: Configz
  try {
    configz = await waitMeshdRead(target, wanted, {
      timeoutMs: opts.wait ? opts.timeoutMs : 10_000,
      onProgress: progress,
    })
  } catch (err) {
    if (opts.wait) throw err
    io.err(`Note: could not check with meshd whether it accepted them: ${(err as Error).message}\n`)
    return 0
  }
  const rejected = rejectedAmong(configz, wanted)
  for (const o of rejected)
    io.err(
      `Warning: ${o.kind.toLowerCase()}/${o.name} -n ${o.namespace ?? 'default'} rejected by meshd: ${outcomeText(o).replace(/^Rejected: /, '')}\n`,
    )
  if (!opts.wait) return 0
  const t0 = Date.now()
  const proxies = await waitProxiesSynced(target, configz.snapshot!.version, {
    timeoutMs: opts.timeoutMs,
    onProgress: progress,
    allowNoProxies: true,
  })
  io.out(
    `synced: ${proxies.length} ${proxies.length === 1 ? 'proxy has' : 'proxies have'} ACKed snapshot ${configz.snapshot!.version} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`,
  )
  return rejected.length > 0 ? 1 : 0
}
