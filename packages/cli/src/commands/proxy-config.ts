// meshctl proxy-config routes|clusters|listeners|endpoints|secret [POD]: reads a proxy's admin
// endpoint (a pod's through the cluster, --admin, or 127.0.0.1:15000 inside a pod) and prints what
// the proxy is actually serving, as tables (or the admin JSON with -o json). `secret` is its
// workload certificate (/certs): identity, chain, roots, validity and renewal.
import { PROXY_ADMIN_PORT } from '@minimesh/api/ports'
import { CliError } from '../errors.ts'
import { type MeshTarget, resolveTarget, TARGET_OPTIONS, type TargetFlags } from '../mesh/target.ts'
import { commandOptions } from './options.ts'
import { type Command, type CommandIo, UsageError } from './types.ts'

const KINDS = ['routes', 'clusters', 'listeners', 'endpoints', 'secret'] as const
type Kind = (typeof KINDS)[number]

interface StringMatcher {
  exact?: string
  prefix?: string
  regex?: string
  present?: boolean
}
interface FilterChain {
  name: string
  match?: { destinationPort?: number; prefixRanges?: string[] }
  http?: { routeConfigName?: string; cluster?: string }
  tcp?: { cluster: string }
}
interface Listener {
  name: string
  address: string
  port: number
  trafficDirection: string
  bindToPort: boolean
  filterChains: FilterChain[]
  defaultFilterChain?: FilterChain
}
interface Route {
  name?: string
  match: {
    path?: StringMatcher
    headers?: { name: string; match: StringMatcher; invert?: boolean }[]
    queryParams?: { name: string; match: StringMatcher }[]
    method?: StringMatcher
    port?: number
    sourceLabels?: Record<string, string>
  }
  route?: { clusters: { name: string; weight: number }[] }
  redirect?: { path?: string; host?: string; code: number }
  directResponse?: { status: number }
}
interface RouteConfig {
  name: string
  virtualHosts: { name: string; domains: string[]; routes: Route[] }[]
}
interface ClusterView {
  name: string
  type: string
  lbPolicy: string
  service: { host: string; port: number; subset?: string } | null
  /** Absent from a proxy older than TLS origination. */
  tls?: string
  hosts: { address: string; port: number; health: string; ejected: boolean; ejectionCount: number }[]
}
interface CertDetails {
  serial_number: string
  subject: string
  subject_alt_names: Record<string, string>[]
  valid_from: string
  expiration_time: string
}
/** The admin's /certs (the proxy's CertsView). */
interface CertsView {
  identity: string | null
  certificates: { cert_chain: CertDetails[]; ca_cert: CertDetails[] }[]
  rotation: {
    next_attempt: string | null
    failures: number
    consecutive_failures: number
    last_error: string | null
  } | null
}
interface ConfigDump {
  listeners: Listener[]
  routes: RouteConfig[]
}

/** Formats rows as aligned columns (istioctl-style). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd()
  return `${[line(header), ...rows.map(line)].join('\n')}\n`
}

function matcher(m: StringMatcher): string {
  if (m.exact !== undefined) return m.exact
  if (m.prefix !== undefined) return `${m.prefix}*`
  if (m.regex !== undefined) return `~${m.regex}`
  return m.present === false ? '(absent)' : '(present)'
}

export function describeMatch(match: Route['match']): string {
  const parts: string[] = []
  if (match.path) parts.push(matcher(match.path))
  if (match.method) parts.push(`method=${matcher(match.method)}`)
  for (const h of match.headers ?? []) parts.push(`${h.name}${h.invert ? '!=' : '='}${matcher(h.match)}`)
  for (const q of match.queryParams ?? []) parts.push(`?${q.name}=${matcher(q.match)}`)
  if (match.port !== undefined) parts.push(`port=${match.port}`)
  for (const [k, v] of Object.entries(match.sourceLabels ?? {})) parts.push(`source.${k}=${v}`)
  return parts.length > 0 ? parts.join(' ') : '/*'
}

function destination(r: Route): string {
  if (r.redirect) return `redirect ${r.redirect.code} ${r.redirect.host ?? ''}${r.redirect.path ?? ''}`
  if (r.directResponse) return `direct response ${r.directResponse.status}`
  const cs = r.route?.clusters ?? []
  if (cs.length === 1) return cs[0]!.name
  const total = cs.reduce((s, c) => s + c.weight, 0) || 1
  return cs.map((c) => `${c.name} ${Math.round((100 * c.weight) / total)}%`).join(', ')
}

function domains(ds: string[]): string {
  const shown = ds.slice(0, 2).join(', ')
  return ds.length > 2 ? `${shown} +${ds.length - 2} more` : shown
}

function chainRow(l: Listener, fc: FilterChain, isDefault: boolean): string[] {
  const m = fc.match
  const match = isDefault
    ? 'default'
    : [
        m?.destinationPort !== undefined ? `dport ${m.destinationPort}` : '',
        m?.prefixRanges?.length ? `dst ${m.prefixRanges.join(',')}` : '',
      ]
        .filter(Boolean)
        .join(' ') || 'ALL'
  const dest = fc.tcp
    ? `TCP: ${fc.tcp.cluster}`
    : fc.http?.cluster
      ? `Cluster: ${fc.http.cluster}`
      : `Route: ${fc.http?.routeConfigName ?? ''}`
  return [l.name, l.address, String(l.port), l.trafficDirection, l.bindToPort ? 'yes' : 'no', match, dest]
}

export function listenersTable(dump: ConfigDump): string {
  const rows: string[][] = []
  for (const l of dump.listeners) {
    for (const fc of l.filterChains) rows.push(chainRow(l, fc, false))
    if (l.defaultFilterChain) rows.push(chainRow(l, l.defaultFilterChain, true))
  }
  return table(['NAME', 'ADDRESS', 'PORT', 'DIRECTION', 'BOUND', 'MATCH', 'DESTINATION'], rows)
}

export function routesTable(dump: ConfigDump): string {
  const rows: string[][] = []
  for (const rc of dump.routes) {
    for (const vh of rc.virtualHosts) {
      for (const r of vh.routes)
        rows.push([
          rc.name,
          vh.name,
          domains(vh.domains),
          describeMatch(r.match),
          destination(r),
          r.name ?? '',
        ])
    }
  }
  return table(['ROUTE CONFIG', 'VIRTUAL HOST', 'DOMAINS', 'MATCH', 'DESTINATION', 'NAME'], rows)
}

export function clustersTable(clusters: ClusterView[]): string {
  const rows = clusters.map((c) => [
    c.name,
    c.service?.host ?? '-',
    c.service ? String(c.service.port) : '-',
    c.service?.subset ?? '-',
    c.type,
    c.lbPolicy,
    c.tls ?? 'DISABLE',
    String(c.hosts.length),
  ])
  return table(['NAME', 'SERVICE FQDN', 'PORT', 'SUBSET', 'TYPE', 'LB POLICY', 'TLS', 'ENDPOINTS'], rows)
}

export function endpointsTable(clusters: ClusterView[]): string {
  const rows: string[][] = []
  for (const c of clusters) {
    for (const h of c.hosts) {
      rows.push([
        `${h.address}:${h.port}`,
        h.health,
        h.ejected ? `EJECTED (${h.ejectionCount}x)` : 'OK',
        c.name,
      ])
    }
  }
  return table(['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], rows)
}

/** `3d4h`, `23h59m`, `59m30s`, `12s`, or `expired`. */
export function expiresIn(ms: number): string {
  if (ms <= 0) return 'expired'
  const s = Math.floor(ms / 1000)
  const [d, h, m, sec] = [Math.floor(s / 86_400), Math.floor(s / 3600) % 24, Math.floor(s / 60) % 60, s % 60]
  if (d > 0) return `${d}d${h}h`
  if (h > 0) return `${h}h${m}m`
  if (m > 0) return `${m}m${sec}s`
  return `${sec}s`
}

function certRow(kind: string, c: CertDetails, now: number): string[] {
  const san = c.subject_alt_names.map((n) => Object.values(n)[0] ?? '').join(',')
  const expires = Date.parse(c.expiration_time)
  return [
    kind,
    san || c.subject,
    c.serial_number,
    c.valid_from,
    c.expiration_time,
    expiresIn(expires - now),
    Date.parse(c.valid_from) <= now && now < expires ? 'true' : 'false',
  ]
}

/** The workload certificate as istioctl's `proxy-config secret` shows it, with the identity on top. */
export function secretTable(view: CertsView, now = Date.now()): string {
  const r = view.rotation
  const renewal = r
    ? `renewal: ${r.next_attempt ?? '-'}${r.consecutive_failures > 0 ? ` (retrying after ${r.consecutive_failures} failure(s): ${r.last_error})` : ''}\n`
    : ''
  const bundle = view.certificates[0]
  if (!view.identity || !bundle)
    return `no workload certificate: ${r ? 'the first one is not in yet' : 'this proxy has no mesh CA configured (MESH_CA_ROOT_CERT)'}\n${renewal}`
  const rows = [
    ...bundle.cert_chain.map((c, i) => certRow(i === 0 ? 'Cert Chain' : 'Intermediate', c, now)),
    ...bundle.ca_cert.map((c) => certRow('ROOTCA', c, now)),
  ]
  return `identity: ${view.identity}\n${renewal}${table(['TYPE', 'SUBJECT / SAN', 'SERIAL NUMBER', 'NOT BEFORE', 'NOT AFTER', 'EXPIRES IN', 'VALID'], rows)}`
}

async function fetchJson<T>(admin: string, path: string, via?: string): Promise<T> {
  const url = `http://${admin}${path}`
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  } catch (cause) {
    const detail = (cause as Error & { cause?: Error }).cause?.message ?? (cause as Error).message
    throw new CliError(
      'MESH_ERR_CLI_PROXY_ADMIN',
      via
        ? `cannot reach the proxy admin of ${via} through the cluster (${detail}): is it a meshed pod (meshctl proxy-status lists them)?`
        : `cannot reach the proxy admin at ${url} (${detail}); from outside a pod, name one: meshctl proxy-config routes POD[.NAMESPACE] or deploy/NAME (meshctl proxy-status lists them)`,
      { cause },
    )
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`)
  return (await res.json()) as T
}

interface Args extends TargetFlags {
  kind: Kind
  admin?: string
  json: boolean
  pod?: string
  namespace?: string
}

const OPTIONS = commandOptions(
  {
    admin: {
      type: 'string',
      arg: 'HOST:PORT',
      defaultText: `127.0.0.1:${PROXY_ADMIN_PORT} without a POD`,
      help: "the proxy's admin address",
    },
    output: { type: 'enum', values: ['table', 'json'], short: 'o', default: 'table', help: 'output format' },
    namespace: { type: 'string', short: 'n', arg: 'NS', defaultText: 'default', help: "the pod's namespace" },
    ...TARGET_OPTIONS,
  },
  `meshctl proxy-config routes|clusters|listeners|endpoints|secret [POD[.NS] | deploy/NAME] [-n NS] [-o json]
                     [--admin HOST:PORT] [--local | --kubeconfig FILE --context NAME]

With a POD (or deploy/NAME: its first running pod), reads that pod's proxy admin (127.0.0.1:${PROXY_ADMIN_PORT}
in the pod) through the cluster, as \`kubectl port-forward\` does: on the local cluster through the
pod's network namespace, on Kubernetes through the API server's port-forward. Without one, reads
--admin, or 127.0.0.1:${PROXY_ADMIN_PORT} (inside a pod).`,
  { allowPositionals: true },
)

function parseCliArgs(args: string[]): Args {
  const { values, positionals } = OPTIONS.parse(args)
  const [kind, pod, ...more] = positionals
  if (!kind) throw new UsageError(`say what to show: ${KINDS.join(', ')}`)
  if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`unexpected argument ${kind}`)
  if (more.length > 0) throw new UsageError(`unexpected argument ${more[0]}`)
  if (values.admin === '') throw new UsageError('--admin needs HOST:PORT')
  if (values.admin !== undefined && pod !== undefined)
    throw new UsageError('give either a POD or --admin HOST:PORT, not both')
  return {
    ...values,
    kind: kind as Kind,
    admin: values.admin,
    json: values.output === 'json',
    pod,
    namespace: values.namespace,
  }
}

/**
 * The pod `arg` names: `NAME`, `NAME.NAMESPACE`, or `deploy/NAME` (its first running pod, as
 * kubectl does for `deploy/…`).
 */
export async function resolvePod(
  target: MeshTarget,
  arg: string,
  namespace: string | undefined,
): Promise<{ namespace: string; name: string }> {
  const deploy = /^(?:deploy|deployment|deployments)\/(.+)$/.exec(arg)
  let name = deploy ? deploy[1]! : arg.replace(/^pods?\//, '')
  let ns = namespace
  if (!ns && !deploy && name.includes('.')) [name, ns] = name.split('.', 2) as [string, string]
  ns ??= 'default'
  const pods = await target.list('Pod', ns)
  if (deploy) {
    const mine = pods.filter((p) => {
      const n = p.metadata.name
      return n.startsWith(`${name}-`) && /^[a-z0-9]+(-[a-z0-9]+)?$/.test(n.slice(name.length + 1))
    })
    const running =
      mine.find((p) => (p as { status?: { phase?: string } }).status?.phase === 'Running') ?? mine[0]
    if (!running) throw new UsageError(`no pod of deployment ${name} in namespace ${ns}`)
    return { namespace: ns, name: running.metadata.name }
  }
  if (!pods.some((p) => p.metadata.name === name)) {
    const names = pods.map((p) => p.metadata.name)
    throw new UsageError(
      `pod "${name}" not found in namespace ${ns}${names.length ? ` (pods: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})` : ''}`,
    )
  }
  return { namespace: ns, name }
}

/** Runs `fn` with an admin address: --admin, a pod's admin forwarded through the cluster, or the pod's own. */
export async function withProxyAdmin<T>(
  args: Pick<Args, 'admin' | 'pod' | 'namespace'> & TargetFlags,
  fn: (admin: string, via?: string) => Promise<T>,
): Promise<T> {
  if (args.admin || !args.pod) return fn(args.admin ?? `127.0.0.1:${PROXY_ADMIN_PORT}`)
  const target = resolveTarget(args)
  const pod = await resolvePod(target, args.pod, args.namespace)
  const fwd = await target.forward(pod.namespace, pod.name, PROXY_ADMIN_PORT)
  try {
    return await fn(fwd.address, `${pod.namespace}/${pod.name}`)
  } finally {
    await fwd.close()
  }
}

export const proxyConfig: Command = {
  name: 'proxy-config',
  summary: "show a proxy's listeners, routes, clusters, endpoints or certificate (from its admin endpoint)",
  usage: OPTIONS.usage(),
  async run(args: string[], io: CommandIo): Promise<number> {
    const parsed = parseCliArgs(args)
    const { kind, json } = parsed
    return withProxyAdmin(parsed, async (admin, via) => {
      if (kind === 'secret') {
        const view = await fetchJson<CertsView>(admin, '/certs', via)
        io.out(json ? `${JSON.stringify(view, null, 2)}\n` : secretTable(view))
        return 0
      }
      if (kind === 'clusters' || kind === 'endpoints') {
        const clusters = await fetchJson<ClusterView[]>(admin, '/clusters', via)
        if (json)
          io.out(
            `${JSON.stringify(kind === 'clusters' ? clusters : clusters.map((c) => ({ cluster: c.name, hosts: c.hosts })), null, 2)}\n`,
          )
        else io.out(kind === 'clusters' ? clustersTable(clusters) : endpointsTable(clusters))
        return 0
      }
      const dump = await fetchJson<ConfigDump>(admin, '/config_dump', via)
      if (json) io.out(`${JSON.stringify(kind === 'routes' ? dump.routes : dump.listeners, null, 2)}\n`)
      else io.out(kind === 'routes' ? routesTable(dump) : listenersTable(dump))
      return 0
    })
  },
}
