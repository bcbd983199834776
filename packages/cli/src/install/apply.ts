// Installing and removing minimesh's objects on a cluster: the order (pure), who owns an existing
// CRD (pure), and the two flows over a small Kube interface (server-side apply as `meshctl`).
//
// Install: refuse CRDs someone else owns (Istio's: minimesh serves the same networking.istio.io
// API) → CRDs, wait until Established → namespace, RBAC, Secret, Services, meshd's Deployment →
// wait for meshd's rollout → the webhook configurations (failurePolicy Fail: they go last, once
// meshd answers, so nothing is refused while it starts) → the other Deployments (the gateway, whose
// pods must go through the injector's gateway template to get the mesh identity) → wait for them.

import type { KubeObject } from '@minimesh/api/kube'
import { GATEWAY_TEMPLATE, STATUS_ANNOTATION, TEMPLATE_LABEL } from '@minimesh/injector'
import { InstallError } from './errors.ts'
import { describeRef, FIELD_MANAGER, type ObjectRef, refOf } from './kube.ts'
import { deploymentRollout, podsReadiness, type WaitState, waitUntil } from './wait.ts'

/** What the install flows need from a cluster; `Kube` is the real one. */
export interface KubeApi {
  apply(obj: KubeObject, force?: boolean): Promise<KubeObject>
  read(ref: ObjectRef): Promise<KubeObject | undefined>
  delete(ref: ObjectRef): Promise<boolean>
  list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]>
}

const APPLY_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Secret',
  'ConfigMap',
  'Service',
  'Deployment',
  // anything else comes here
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]
const OTHER = APPLY_ORDER.indexOf('Deployment') + 0.5

function rank(obj: KubeObject): number {
  const i = APPLY_ORDER.indexOf(obj.kind)
  return i === -1 ? OTHER : i
}

/** The objects in the order they are applied (stable within a kind). */
export function applyOrder(objects: readonly KubeObject[]): KubeObject[] {
  return objects
    .map((obj, i) => ({ obj, i }))
    .sort((a, b) => rank(a.obj) - rank(b.obj) || a.i - b.i)
    .map((x) => x.obj)
}

/** The objects in the order they are deleted: webhooks first (so nothing calls a meshd that is going), CRDs last. */
export function deleteOrder(objects: readonly KubeObject[]): KubeObject[] {
  return applyOrder(objects).reverse()
}

const isWebhookConfiguration = (o: KubeObject): boolean =>
  o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration'

interface ManagedField {
  manager?: string
  operation?: string
}

/** True when minimesh made this object: our labels, or `meshctl` among its field managers. */
export function ownedByMinimesh(obj: KubeObject): boolean {
  const labels = obj.metadata.labels ?? {}
  if (
    labels['app.kubernetes.io/part-of'] === 'minimesh' ||
    labels['app.kubernetes.io/managed-by'] === 'meshctl'
  ) {
    return true
  }
  const managed = (obj.metadata.managedFields ?? []) as ManagedField[]
  return managed.some((m) => m.manager === FIELD_MANAGER)
}

/** Who seems to own an object we did not make, for the conflict message. */
function ownerHint(obj: KubeObject): string {
  const labels = obj.metadata.labels ?? {}
  const annotations = obj.metadata.annotations ?? {}
  const hints: string[] = []
  const release = annotations['meta.helm.sh/release-name']
  if (release)
    hints.push(
      `Helm release "${release}"${annotations['meta.helm.sh/release-namespace'] ? ` in ${annotations['meta.helm.sh/release-namespace']}` : ''}`,
    )
  for (const key of [
    'app.kubernetes.io/part-of',
    'app.kubernetes.io/managed-by',
    'app',
    'release',
    'istio',
  ]) {
    if (labels[key]) hints.push(`label ${key}=${labels[key]}`)
  }
  const managers = [...new Set(((obj.metadata.managedFields ?? []) as ManagedField[]).map((m) => m.manager))]
  if (managers.length) hints.push(`field managers ${managers.filter(Boolean).join(', ')}`)
  return hints.length ? hints.join('; ') : 'no owner labels'
}

export interface CrdConflict {
  name: string
  owner: string
}

/** The desired CRDs that already exist and are not minimesh's. */
export async function findCrdConflicts(
  kube: KubeApi,
  objects: readonly KubeObject[],
): Promise<CrdConflict[]> {
  const conflicts: CrdConflict[] = []
  for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
    const existing = await kube.read(refOf(crd))
    if (existing && !ownedByMinimesh(existing))
      conflicts.push({ name: crd.metadata.name, owner: ownerHint(existing) })
  }
  return conflicts
}

function crdConflictError(conflicts: readonly CrdConflict[], context: string): InstallError {
  const list = conflicts.map((c) => `  ${c.name} (${c.owner})`).join('\n')
  return new InstallError(
    'MESH_ERR_INSTALL_CRD_CONFLICT',
    `these CustomResourceDefinitions already exist in context "${context}" and were not made by minimesh:\n${list}\n` +
      "minimesh serves Istio's networking.istio.io API itself, so it cannot share a cluster with Istio. Either " +
      'remove Istio first (`istioctl uninstall --purge`, then `kubectl delete crd <name>` for the ones above; this ' +
      'deletes every VirtualService, DestinationRule and Gateway in the cluster), or use another cluster ' +
      '(`bash kind/up.sh` makes the kind cluster "minimesh"), or pass --take-over-crds to replace their schema with ' +
      "minimesh's (the existing resources stay).",
  )
}

function established(crd: KubeObject | undefined): WaitState {
  const conditions = ((crd?.status as { conditions?: { type: string; status: string }[] } | undefined)
    ?.conditions ?? []) as { type: string; status: string }[]
  const ok = conditions.some((c) => c.type === 'Established' && c.status === 'True')
  return {
    done: ok,
    message: `CustomResourceDefinition ${crd?.metadata.name ?? '?'}: ${ok ? 'established' : 'waiting to be established...'}`,
  }
}

/** A Deployment's rollout together with why its pods are stuck, for progress lines. */
async function rolloutState(kube: KubeApi, dep: KubeObject): Promise<WaitState> {
  const current = await kube.read(refOf(dep))
  if (!current) return { done: false, message: `${describeRef(refOf(dep))}: not created yet...` }
  const rollout = deploymentRollout(current)
  if (rollout.done || rollout.failed) return rollout
  const selector = selectorOf(current)
  if (!selector) return rollout
  const pods = await kube.list('v1', 'Pod', dep.metadata.namespace, selector)
  const readiness = podsReadiness(pods, dep.metadata.name)
  const problems = readiness.message.includes('(')
    ? readiness.message.slice(readiness.message.indexOf('('))
    : ''
  const state: WaitState = { done: false, message: `${rollout.message}${problems ? ` ${problems}` : ''}` }
  return readiness.failed ? { ...state, failed: readiness.failed } : state
}

export interface InstallOptions {
  /** One line per step and per change while waiting. */
  progress: (line: string) => void
  /** For each wait (CRDs, each rollout). */
  timeoutMs: number
  intervalMs?: number
  /** Apply our CRDs over CRDs of the same name that someone else made. */
  takeOverCrds?: boolean
  /** Wait for rollouts (default true). */
  wait?: boolean
  context: string
}

/** Applies minimesh's objects in order and waits for meshd and the gateway; see the file comment. */
export async function installObjects(
  kube: KubeApi,
  objects: readonly KubeObject[],
  options: InstallOptions,
): Promise<void> {
  const { progress } = options
  const waitOpts = {
    timeoutMs: options.timeoutMs,
    intervalMs: options.intervalMs ?? 1000,
    progress: (l: string) => progress(`  ${l}`),
  }
  const ordered = applyOrder(objects)
  const conflicts = await findCrdConflicts(kube, ordered)
  if (conflicts.length > 0) {
    if (!options.takeOverCrds) throw crdConflictError(conflicts, options.context)
    progress(
      `taking over ${conflicts.length} CustomResourceDefinitions made by someone else (--take-over-crds)`,
    )
  }
  const crds = ordered.filter((o) => o.kind === 'CustomResourceDefinition')
  const webhooks = ordered.filter(isWebhookConfiguration)
  const rest = ordered.filter((o) => !crds.includes(o) && !webhooks.includes(o))
  const apply = async (obj: KubeObject) => {
    await kube.apply(obj, true)
    progress(`applied ${describeRef(refOf(obj))}`)
  }
  for (const crd of crds) await apply(crd)
  if (options.wait !== false) {
    for (const crd of crds) {
      await waitUntil(
        `CustomResourceDefinition ${crd.metadata.name}`,
        async () => established(await kube.read(refOf(crd))),
        {
          ...waitOpts,
          intervalMs: Math.min(waitOpts.intervalMs, 250),
        },
      )
    }
  }
  // meshd first: the webhook configurations must not point at a webhook that is not answering yet.
  // The other Deployments after the webhooks: a gateway pod made before the MutatingWebhookConfiguration
  // exists would never get the mesh identity.
  const isDeployment = (o: KubeObject) => o.kind === 'Deployment'
  const meshd = rest.filter((d) => isDeployment(d) && d.metadata.name === 'meshd')
  const others = rest.filter((d) => isDeployment(d) && d.metadata.name !== 'meshd')
  for (const obj of rest) if (!others.includes(obj)) await apply(obj)
  const waitRollout = async (dep: KubeObject) => {
    progress(`waiting for the rollout of ${describeRef(refOf(dep))}`)
    await waitUntil(`rollout of ${describeRef(refOf(dep))}`, () => rolloutState(kube, dep), waitOpts)
  }
  if (options.wait !== false) for (const dep of meshd) await waitRollout(dep)
  for (const wh of webhooks) await apply(wh)
  for (const dep of others) await apply(dep)
  if (options.wait !== false)
    for (const dep of others) {
      await waitRollout(dep)
      // Bounded: a pod made again before the webhook answers is refused, not admitted bare.
      for (let i = 0; i < 3 && (await recreateUninjectedGatewayPods(kube, dep, progress)); i++)
        await waitRollout(dep)
    }
}

const selectorOf = (dep: KubeObject): string | undefined => {
  const matchLabels = (dep.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)
    ?.selector?.matchLabels
  return matchLabels
    ? Object.entries(matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : undefined
}

/**
 * A Deployment labelled for the injector's gateway template whose pods lack the injector's status
 * annotation had them admitted without the injector (made before the webhook configuration took
 * effect, or by an older install): they have no mesh identity. Deletes them so the ReplicaSet
 * makes them again through the webhook; true when it deleted any.
 */
async function recreateUninjectedGatewayPods(
  kube: KubeApi,
  dep: KubeObject,
  progress: (line: string) => void,
): Promise<boolean> {
  const template = (dep.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)
    ?.template
  const selector = selectorOf(dep)
  if (template?.metadata?.labels?.[TEMPLATE_LABEL] !== GATEWAY_TEMPLATE || !selector) return false
  const pods = await kube.list('v1', 'Pod', dep.metadata.namespace, selector)
  const bare = pods.filter(
    (p) => !p.metadata.deletionTimestamp && p.metadata.annotations?.[STATUS_ANNOTATION] === undefined,
  )
  for (const p of bare) {
    progress(
      `pod ${p.metadata.namespace}/${p.metadata.name} was created without the injector (no mesh identity); deleting it so it is made again through the webhook`,
    )
    await kube.delete(refOf(p))
  }
  return bare.length > 0
}

export interface UninstallOptions {
  progress: (line: string) => void
  /** Also delete minimesh's CRDs, and with them every VirtualService, DestinationRule, Gateway, QuotaPolicy. */
  purge?: boolean
  timeoutMs: number
  intervalMs?: number
}

/** Deletes minimesh's objects (webhooks first); CRDs only with purge and only if minimesh made them. */
export async function uninstallObjects(
  kube: KubeApi,
  objects: readonly KubeObject[],
  options: UninstallOptions,
): Promise<void> {
  const { progress } = options
  for (const obj of deleteOrder(objects)) {
    const ref = refOf(obj)
    if (obj.kind === 'CustomResourceDefinition') {
      if (!options.purge) continue
      const existing = await kube.read(ref)
      if (existing && !ownedByMinimesh(existing)) {
        progress(`kept ${describeRef(ref)}: not made by minimesh (${ownerHint(existing)})`)
        continue
      }
    }
    const deleted = await kube.delete(ref)
    progress(`${deleted ? 'deleted' : 'already gone:'} ${describeRef(ref)}`)
  }
  if (!options.purge && objects.some((o) => o.kind === 'CustomResourceDefinition')) {
    progress(
      'kept the CustomResourceDefinitions and your routing resources (pass --purge to delete them too)',
    )
  }
  for (const ns of objects.filter((o) => o.kind === 'Namespace')) {
    await waitUntil(
      `deletion of namespace ${ns.metadata.name}`,
      async () => {
        const gone = (await kube.read(refOf(ns))) === undefined
        return {
          done: gone,
          message: `namespace ${ns.metadata.name}: ${gone ? 'deleted' : 'terminating...'}`,
        }
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: options.intervalMs ?? 1000,
        progress: (l) => progress(`  ${l}`),
      },
    )
  }
}
