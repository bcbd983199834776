// meshctl describe pod|service NAME: which VirtualServices route to it and which DestinationRule
// subsets apply, with their effective timeout, retries, faults and quota, the mTLS its workloads
// take and what clients send, the AuthorizationPolicies that apply, what meshd made of each rule,
// and (for a pod) the routes its proxy actually serves (istioctl x describe).
import { outcomeText } from '@minimesh/api'
import type { KubeObject } from '@minimesh/api/kube'
import { PROXY_ADMIN_PORT } from '@minimesh/api/ports'
import { type Configz, findConfig } from '../mesh/configz.ts'
import {
  authorizationLines,
  clientTlsLine,
  labelText,
  mtlsLine,
  workloadsOf,
} from '../mesh/describe-security.ts'
import { type MeshTarget, resolveTarget, TARGET_OPTIONS } from '../mesh/target.ts'
import { commandOptions } from './options.ts'
import { resolvePod, routesTable } from './proxy-config.ts'
import { type Command, type CommandIo, UsageError } from './types.ts'

// biome-ignore lint/suspicious/noExplicitAny: resources read loosely, as users write them
type Any = any

function shortHost(host: string, ns: string): string {
  return host.replace(new RegExp(`\\.${ns}(\\.svc(\\.cluster\\.local)?)?$`), '')
}

/** Whether a rule's host names this service (short name, name.ns, FQDN, or a wildcard covering it). */
function hostIs(host: string, svc: string, ruleNs: string, svcNs: string): boolean {
  const fqdn = `${svc}.${svcNs}.svc.cluster.local`
  if (host.startsWith('*')) return fqdn.endsWith(host.slice(1))
  const full = host.includes('.')
    ? host.split('.').length === 2
      ? `${host}.svc.cluster.local`
      : host
    : `${host}.${ruleNs}.svc.cluster.local`
  return full === fqdn
}

function labelsMatch(
  want: Record<string, string> | undefined,
  have: Record<string, string> | undefined,
): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => have?.[k] === v)
}

function describeHttpRoute(r: Any, ns: string): string[] {
  const lines: string[] = []
  const match = (r.match ?? [])
    .map((m: Any) =>
      [
        m.uri ? `uri ${Object.entries(m.uri).map(([k, v]) => `${k} ${v}`)[0]}` : '',
        ...Object.entries(m.headers ?? {}).map(
          ([h, v]) => `header ${h} ${Object.entries(v as Any).map(([k, x]) => `${k} ${x}`)[0]}`,
        ),
        m.sourceLabels
          ? `source ${Object.entries(m.sourceLabels)
              .map(([k, v]) => `${k}=${v}`)
              .join(',')}`
          : '',
      ]
        .filter(Boolean)
        .join(' and '),
    )
    .filter(Boolean)
  lines.push(`when ${match.length ? match.join(' or ') : 'any request'}:`)
  const dests = (r.route ?? []).map(
    (d: Any) =>
      `${shortHost(d.destination?.host ?? '', ns)}${d.destination?.subset ? ` subset ${d.destination.subset}` : ''}${d.destination?.port?.number ? `:${d.destination.port.number}` : ''}${(r.route?.length ?? 0) > 1 ? ` ${d.weight ?? 0}%` : ''}`,
  )
  if (dests.length) lines.push(`  route to ${dests.join(', ')}`)
  if (r.redirect) lines.push(`  redirect ${JSON.stringify(r.redirect)}`)
  if (r.directResponse) lines.push(`  direct response ${r.directResponse.status}`)
  if (r.timeout) lines.push(`  timeout ${r.timeout}`)
  if (r.retries)
    lines.push(
      `  retries ${r.retries.attempts ?? 0}${r.retries.perTryTimeout ? `, ${r.retries.perTryTimeout} per try` : ''}${r.retries.retryOn ? ` on ${r.retries.retryOn}` : ''}`,
    )
  if (r.fault?.delay)
    lines.push(`  fault: delay ${r.fault.delay.fixedDelay} for ${r.fault.delay.percentage?.value ?? 100}%`)
  if (r.fault?.abort)
    lines.push(`  fault: abort ${r.fault.abort.httpStatus} for ${r.fault.abort.percentage?.value ?? 100}%`)
  if (r.mirror)
    lines.push(`  mirror to ${r.mirror.host}${r.mirror.subset ? ` subset ${r.mirror.subset}` : ''}`)
  return lines
}

async function describeService(
  io: CommandIo,
  objects: Record<string, KubeObject[]>,
  configz: Configz | undefined,
  svc: KubeObject,
  pod?: KubeObject,
): Promise<void> {
  const name = svc.metadata.name
  const ns = svc.metadata.namespace ?? 'default'
  const status = (o: KubeObject) => {
    const c = configz && findConfig(configz, o.kind, o.metadata.namespace, o.metadata.name)
    return c ? outcomeText(c) : 'status unknown (meshd not reachable)'
  }
  const ports = ((svc.spec as Any)?.ports ?? []).map((p: Any) => `${p.port}/${p.name ?? p.protocol ?? 'TCP'}`)
  io.out(`Service: ${name}.${ns} (${ports.join(', ')})\n`)
  // Rules bound to gateways only (not `mesh`) do not route sidecar traffic to this service.
  const forMesh = (v: KubeObject) => {
    const gws = (v.spec as Any)?.gateways as string[] | undefined
    return !gws || gws.length === 0 || gws.includes('mesh')
  }
  const vss = (objects.VirtualService ?? []).filter(
    (v) =>
      forMesh(v) &&
      ((v.spec as Any)?.hosts ?? []).some((h: string) =>
        hostIs(h, name, v.metadata.namespace ?? 'default', ns),
      ),
  )
  if (vss.length === 0) io.out('  VirtualService: none (round robin over every endpoint)\n')
  for (const v of vss) {
    io.out(`  VirtualService ${v.metadata.namespace ?? 'default'}/${v.metadata.name}: ${status(v)}\n`)
    for (const r of (v.spec as Any)?.http ?? [])
      for (const l of describeHttpRoute(r, ns)) io.out(`    ${l}\n`)
  }
  const drs = (objects.DestinationRule ?? []).filter((d) =>
    hostIs((d.spec as Any)?.host ?? '', name, d.metadata.namespace ?? 'default', ns),
  )
  if (drs.length === 0) io.out('  DestinationRule: none\n')
  for (const d of drs) {
    const spec = d.spec as Any
    io.out(`  DestinationRule ${d.metadata.namespace ?? 'default'}/${d.metadata.name}: ${status(d)}\n`)
    for (const s of spec?.subsets ?? []) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
      const mine = pod
        ? labelsMatch(s.labels, pod.metadata.labels as Record<string, string>)
          ? '  <- this pod'
          : ''
        : ''
      io.out(`    subset ${s.name} (${labels})${mine}\n`)
    }
    const tp = spec?.trafficPolicy
    if (tp?.loadBalancer) io.out(`    load balancer ${JSON.stringify(tp.loadBalancer)}\n`)
    if (tp?.connectionPool) io.out(`    connection pool ${JSON.stringify(tp.connectionPool)}\n`)
    if (tp?.outlierDetection) io.out(`    outlier detection ${JSON.stringify(tp.outlierDetection)}\n`)
    if (tp?.tls) io.out(`    tls ${tp.tls.mode}\n`)
  }
  io.out(`  mTLS from clients' sidecars: ${clientTlsLine(drs)}\n`)
  const quotas = (objects.QuotaPolicy ?? []).filter((q) => {
    const hosts = (q.spec as Any)?.hosts as string[] | undefined
    if ((q.metadata.namespace ?? 'default') !== ns && !hosts) return false
    return !hosts || hosts.some((h) => hostIs(h, name, q.metadata.namespace ?? 'default', ns))
  })
  for (const q of quotas) {
    const spec = q.spec as Any
    const o = (spec?.overrides ?? []).map(
      (x: Any) =>
        `${JSON.stringify(x.dimensions)} → ${x.maxAmount} per ${x.validDuration ?? spec.validDuration}`,
    )
    io.out(
      `  QuotaPolicy ${q.metadata.namespace ?? 'default'}/${q.metadata.name}: ${spec?.maxAmount} per ${spec?.validDuration}${o.length ? `; overrides: ${o.join('; ')}` : ''} (${status(q)})\n`,
    )
  }
  if (quotas.length === 0) io.out('  QuotaPolicy: none\n')
  // Server side: per workload behind the service (this pod's, when describing a pod).
  const workloads = pod
    ? [(pod.metadata.labels ?? {}) as Record<string, string>]
    : workloadsOf(svc, objects.Pod ?? [])
  for (const labels of workloads) {
    io.out(`  Workload ${labelText(labels)}:\n`)
    io.out(`    mTLS it accepts: ${mtlsLine(objects.PeerAuthentication ?? [], ns, labels)}\n`)
    const auth = authorizationLines(objects.AuthorizationPolicy ?? [], ns, labels, status)
    io.out(`    AuthorizationPolicy${auth.length === 1 ? `: ${auth[0]}` : ' (in evaluation order):'}\n`)
    if (auth.length > 1) for (const l of auth) io.out(`      ${l}\n`)
  }
}

/** Describes a pod or service on `target`; returns the exit code. */
export async function describeCommand(
  target: MeshTarget,
  what: string,
  name: string,
  namespace: string | undefined,
  io: CommandIo,
): Promise<number> {
  const ns = namespace ?? 'default'
  const objects: Record<string, KubeObject[]> = {}
  for (const kind of [
    'Service',
    'Pod',
    'VirtualService',
    'DestinationRule',
    'QuotaPolicy',
    'PeerAuthentication',
    'AuthorizationPolicy',
  ] as const)
    objects[kind] = await target.list(kind).catch(() => [])
  const configz = await target.meshd<Configz>('/debug/configz').catch(() => undefined)
  if (/^s/.test(what)) {
    const svc = objects.Service!.find(
      (s) => s.metadata.name === name && (s.metadata.namespace ?? 'default') === ns,
    )
    if (!svc) throw new UsageError(`service "${name}" not found in namespace ${ns}`)
    await describeService(io, objects, configz, svc)
    return 0
  }
  const ref = await resolvePod(target, name, namespace)
  const pod = (await target.list('Pod', ref.namespace)).find((p) => p.metadata.name === ref.name)!
  const labels = (pod.metadata.labels ?? {}) as Record<string, string>
  io.out(`Pod: ${ref.name}.${ref.namespace}  labels ${labelText(labels)}\n`)
  const injected = (pod.metadata.annotations as Record<string, string> | undefined)?.[
    'sidecar.minimesh.dev/status'
  ]
  io.out(injected ? '  sidecar: injected (mesh-proxy)\n' : '  sidecar: none: this pod is not in the mesh\n')
  const selecting = objects.Service!.filter((s) => {
    const sel = (s.spec as Any)?.selector as Record<string, string> | undefined
    return (
      (s.metadata.namespace ?? 'default') === ref.namespace &&
      sel &&
      Object.keys(sel).length > 0 &&
      labelsMatch(sel, labels)
    )
  })
  for (const svc of selecting) await describeService(io, objects, configz, svc, pod)
  if (selecting.length === 0) io.out('  no Service selects this pod\n')
  if (!injected) return 0
  const fwd = await target.forward(ref.namespace, ref.name, PROXY_ADMIN_PORT)
  try {
    const res = await fetch(`http://${fwd.address}/config_dump`, { signal: AbortSignal.timeout(5000) })
    const dump = (await res.json()) as Parameters<typeof routesTable>[0]
    io.out(`\nRoutes this pod's proxy serves now:\n${routesTable(dump)}`)
  } finally {
    await fwd.close()
  }
  return 0
}

const OPTIONS = commandOptions(
  {
    namespace: { type: 'string', short: 'n', arg: 'NS', defaultText: 'default', help: 'namespace' },
    ...TARGET_OPTIONS,
  },
  `meshctl describe pod|service NAME [-n NS] [--local | --kubeconfig FILE --context NAME]

For a service: the VirtualServices that route to it (matches, destinations and weights, timeout,
retries, faults), the DestinationRule subsets and traffic policy, QuotaPolicies, the mTLS clients'
sidecars send and each workload behind it accepts (PeerAuthentication), the AuthorizationPolicies
that apply to each workload, and what meshd made of each (Accepted, or Rejected and which version
serves). For a pod (NAME, NAME.NS or deploy/NAME): the same for every service that selects it, which
subsets it belongs to, and the routes its own proxy serves now (read through the cluster, as
proxy-config does).`,
  { allowPositionals: true },
)

export const describe: Command = {
  name: 'describe',
  summary: 'which rules apply to a pod or service, their effect, and what the proxy serves',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values, positionals } = OPTIONS.parse(args)
    const [what, name, extra] = positionals
    if (!what || !name || extra !== undefined || !/^(pods?|po|services?|svc)$/.test(what))
      throw new UsageError('say what to describe: pod NAME or service NAME')
    return describeCommand(resolveTarget(values), what, name, values.namespace, io)
  },
}
