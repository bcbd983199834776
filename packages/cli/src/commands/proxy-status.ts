// meshctl proxy-status: every proxy connected to meshd, per resource type whether what it was sent
// is ACKed, the snapshot its configuration comes from, its last NACK (istioctl proxy-status).
import type { Configz, SynczProxy, SynczType } from '../mesh/configz.ts'
import { resolveTarget, TARGET_OPTIONS, TARGET_USAGE } from '../mesh/target.ts'
import { commandOptions } from './options.ts'
import { table } from './proxy-config.ts'
import type { Command } from './types.ts'

const TYPE_COLUMNS: [string, string][] = [
  ['Cluster', 'CDS'],
  ['Listener', 'LDS'],
  ['ClusterLoadAssignment', 'EDS'],
  ['RouteConfiguration', 'RDS'],
]

/** `sidecar~198.18.0.5~reviews-v1-abc.default~default.svc.cluster.local` → `reviews-v1-abc.default`. */
export function proxyName(id: string): string {
  return id.split('~')[2] ?? id
}

function typeState(s: SynczType | undefined): string {
  if (!s) return 'NOT SENT'
  if (s.lastNack && s.lastNack.version === s.sent) return 'NACKED'
  if (s.synced && !s.inflight && !s.pending) return 'SYNCED'
  return s.sent === null ? 'NOT SENT' : 'STALE'
}

/** One proxy's overall state against meshd's newest snapshot. */
export function proxyState(p: SynczProxy, snapshot: number | undefined): string {
  const states = Object.values(p.types).map((t) => typeState(t))
  if (states.includes('NACKED')) return 'NACKED'
  if (states.length === 0 || states.some((s) => s !== 'SYNCED')) return 'STALE'
  if (snapshot !== undefined && (p.snapshot ?? -1) < snapshot) return `STALE (snapshot ${p.snapshot ?? '-'})`
  return 'SYNCED'
}

export function proxyStatusTable(proxies: SynczProxy[], snapshot: number | undefined): string {
  const extra = [
    ...new Set(
      proxies.flatMap((p) => Object.keys(p.types)).filter((t) => !TYPE_COLUMNS.some(([k]) => k === t)),
    ),
  ].sort()
  const cols: [string, string][] = [
    ...TYPE_COLUMNS,
    ...extra.map((t): [string, string] => [t, t === 'VirtualHost' ? 'VHDS' : t.toUpperCase()]),
  ]
  const rows = proxies.map((p) => [
    proxyName(p.proxy),
    p.type,
    String(p.snapshot ?? '-'),
    ...cols.map(([k]) => {
      const s = p.types[k]
      const st = typeState(s)
      return st === 'SYNCED' || st === 'NOT SENT' || !s
        ? st
        : `${st} (acked ${s.acked ?? '-'}, sent ${s.sent})`
    }),
    proxyState(p, snapshot),
  ])
  return table(['NAME', 'TYPE', 'SNAPSHOT', ...cols.map(([, c]) => c), 'STATUS'], rows)
}

const OPTIONS = commandOptions(
  {
    output: { type: 'enum', values: ['json'], short: 'o', defaultText: 'a table', help: 'output format' },
    ...TARGET_OPTIONS,
  },
  `meshctl proxy-status [-o json] [--local | --kubeconfig FILE --context NAME | --meshd HOST:PORT]

A type is SYNCED when the proxy ACKed the version it was sent, STALE (acked/sent) while a push is
unanswered or queued, NACKED when the proxy refused it (it keeps serving its last good one; the
reason is printed below the table). A proxy whose configuration comes from an older snapshot than
meshd's newest is STALE. ${TARGET_USAGE}`,
)

export const proxyStatus: Command = {
  name: 'proxy-status',
  summary: "every proxy's configuration versions sent and ACKed per type, last NACK, synced or stale",
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values } = OPTIONS.parse(args)
    const target = resolveTarget(values)
    const [syncz, configz] = await Promise.all([
      target.meshd<SynczProxy[]>('/debug/syncz'),
      target.meshd<Configz>('/debug/configz?rejected=1'),
    ])
    const snapshot = configz.snapshot?.version
    if (values.output === 'json') {
      io.out(`${JSON.stringify({ snapshot: configz.snapshot, proxies: syncz }, null, 2)}\n`)
      return 0
    }
    io.out(
      `meshd snapshot ${snapshot ?? '-'}; ${syncz.length} ${syncz.length === 1 ? 'proxy' : 'proxies'} connected\n`,
    )
    if (syncz.length === 0) return 0
    io.out(proxyStatusTable(syncz, snapshot))
    for (const p of syncz)
      for (const [type, s] of Object.entries(p.types))
        if (s.lastNack)
          io.out(
            `${proxyName(p.proxy)} ${type}: last NACK of ${s.lastNack.version} at ${s.lastNack.at}: ${s.lastNack.message}\n`,
          )
    return 0
  },
}
