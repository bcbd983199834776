// What `meshctl get` and `meshctl local get` print: kubectl's columns for the kinds people look at
// most; for mesh resources, what meshd made of them (their status, read against their generation).
import { readStatus } from '@minimesh/api'
import { stringify } from 'yaml'

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects of any kind, read loosely
type Obj = Record<string, any>

/** kubectl's AGE column. The JSON has an RFC 3339 string; client-node hands built-in kinds over with a Date. */
export function age(ts: unknown, now = Date.now()): string {
  const t = ts instanceof Date ? ts.getTime() : typeof ts === 'string' ? Date.parse(ts) : Number.NaN
  if (!Number.isFinite(t)) return '<unknown>'
  const s = Math.max(0, Math.floor((now - t) / 1000))
  if (s < 120) return `${s}s`
  if (s < 7200) return `${Math.floor(s / 60)}m`
  if (s < 172800) return `${Math.floor(s / 3600)}h`
  return `${Math.floor(s / 86400)}d`
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`
}

function columns(kind: string, o: Obj, wide: boolean): [string[], string[]] {
  const st = o.status ?? {}
  switch (kind) {
    case 'Pod': {
      // Native sidecars (restartable init containers) count as kubectl counts them.
      const sidecars = new Set(
        (o.spec?.initContainers ?? [])
          .filter((c: Obj) => c.restartPolicy === 'Always')
          .map((c: Obj) => c.name),
      )
      const cs: Obj[] = [
        ...(st.initContainerStatuses ?? []).filter((c: Obj) => sidecars.has(c.name)),
        ...(st.containerStatuses ?? []),
      ]
      const ready = cs.filter((c) => c.ready).length
      const restarts = cs.reduce((n, c) => n + (c.restartCount ?? 0), 0)
      const total = (o.spec?.containers?.length ?? 0) + sidecars.size || cs.length
      const status = o.metadata.deletionTimestamp
        ? 'Terminating'
        : st.phase === 'Pending' && (o.spec?.initContainers?.length ?? 0) > 0
          ? 'Init'
          : (st.phase ?? 'Pending')
      const h = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', ...(wide ? ['IP'] : [])]
      return [
        h,
        [
          o.metadata.name,
          `${ready}/${total}`,
          status,
          String(restarts),
          age(o.metadata.creationTimestamp),
          ...(wide ? [st.podIP ?? '<none>'] : []),
        ],
      ]
    }
    case 'Deployment': {
      const want = o.spec?.replicas ?? 1
      return [
        ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
        [
          o.metadata.name,
          `${st.readyReplicas ?? 0}/${want}`,
          String(st.updatedReplicas ?? 0),
          String(st.availableReplicas ?? 0),
          age(o.metadata.creationTimestamp),
        ],
      ]
    }
    case 'Service': {
      const ports = (o.spec?.ports ?? []).map((p: Obj) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',')
      const ext = (st.loadBalancer?.ingress ?? []).map((i: Obj) => i.ip).join(',') || '<none>'
      return [
        ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
        [
          o.metadata.name,
          o.spec?.type ?? 'ClusterIP',
          o.spec?.clusterIP ?? '<none>',
          ext,
          ports || '<none>',
          age(o.metadata.creationTimestamp),
        ],
      ]
    }
    case 'Endpoints': {
      const eps = (o.subsets ?? []).flatMap((s: Obj) =>
        (s.addresses ?? []).flatMap((a: Obj) => (s.ports ?? []).map((p: Obj) => `${a.ip}:${p.port}`)),
      )
      return [
        ['NAME', 'ENDPOINTS', 'AGE'],
        [o.metadata.name, eps.join(',') || '<none>', age(o.metadata.creationTimestamp)],
      ]
    }
    case 'VirtualService':
    case 'DestinationRule':
    case 'Gateway':
    case 'QuotaPolicy':
    case 'PeerAuthentication':
    case 'AuthorizationPolicy':
      return [
        ['NAME', 'AGE', 'STATUS'],
        [
          o.metadata.name,
          age(o.metadata.creationTimestamp),
          readStatus(o.status, o.metadata.generation).text,
        ],
      ]
    case 'Namespace':
      return [
        ['NAME', 'STATUS', 'AGE'],
        [o.metadata.name, 'Active', age(o.metadata.creationTimestamp)],
      ]
    default:
      return [
        ['NAME', 'AGE'],
        [o.metadata.name, age(o.metadata.creationTimestamp)],
      ]
  }
}

export function formatObjects(items: Obj[], output: string | undefined, allNamespaces: boolean): string {
  if (output === 'yaml')
    return items.length === 1 ? stringify(items[0]) : stringify({ apiVersion: 'v1', kind: 'List', items })
  if (output === 'json')
    return `${JSON.stringify(items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`
  if (output === 'name')
    return items.map((o) => `${String(o.kind).toLowerCase()}/${o.metadata.name}\n`).join('')
  if (items.length === 0) return ''
  const rows = items.map((o) => columns(o.kind, o, output === 'wide'))
  const header = rows[0]![0]
  const body = rows.map(([, r]) => r)
  return table(
    allNamespaces
      ? [['NAMESPACE', ...header], ...items.map((o, i) => [o.metadata.namespace ?? '', ...body[i]!])]
      : [header, ...body],
  )
}
