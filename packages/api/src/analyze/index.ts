import type { Finding } from '../finding.ts'
import { validateObject } from '../validate.ts'
import { type SourcedObject, unsourced } from '../yaml/load.ts'
import { checkAuthorizationSelectors } from './authorization.ts'
import { checkConflictingVirtualServices } from './conflicts.ts'
import { checkDuplicateResources } from './duplicates.ts'
import { checkMissingCredentials, checkUnknownGateways } from './gateways.ts'
import { type AnalyzeOptions, Inventory } from './inventory.ts'
import { checkMtlsConflicts, checkPeerAuthentications } from './peer-authentication.ts'
import { checkUnreachableOverrides } from './quota.ts'
import { checkUnknownHosts } from './services.ts'
import { checkUnknownSubsets } from './subsets.ts'

export { MESH_ROOT_NAMESPACE } from './authorization.ts'
export { gatewayKey } from './gateways.ts'
export { hostMatches, resolveHost, serviceOfHost } from './hosts.ts'
export type { AnalyzeOptions } from './inventory.ts'

/** The cross-resource checks, in the order their findings are listed for one resource. */
const CHECKS = [
  checkDuplicateResources,
  checkUnknownSubsets,
  checkUnknownHosts,
  checkConflictingVirtualServices,
  checkUnknownGateways,
  checkMissingCredentials,
  checkUnreachableOverrides,
  checkAuthorizationSelectors,
  checkPeerAuthentications,
  checkMtlsConflicts,
] as const

function isSourced(x: SourcedObject | Record<string, unknown>): x is SourcedObject {
  return typeof (x as SourcedObject).lineOf === 'function' && typeof x.object === 'object'
}

/**
 * Validates every object (validateObject) and checks them against each other: routes to subsets
 * no DestinationRule defines, hosts that match no Service, several VirtualServices for one mesh
 * host, Gateways that are not among the inputs, Gateway credentialName Secrets that are not, QuotaPolicy overrides that can never match, the
 * same object given twice.
 * Services among the inputs are Kubernetes `v1 Service` objects. Findings come grouped by input
 * object, in input order, and by line inside one object.
 */
export function analyze(
  objects: readonly SourcedObject[] | readonly Record<string, unknown>[],
  options: AnalyzeOptions = {},
): Finding[] {
  const sources = objects.map((o) => (isSourced(o) ? o : unsourced(o)))
  const inv = new Inventory(sources, options)
  const defaultNs = options.defaultNamespace ?? 'default'
  const order = new Map(sources.map((s, i) => [s, i]))
  const keyed: { at: number; line: number; seq: number; finding: Finding }[] = []
  const add = (at: number, finding: Finding) =>
    keyed.push({ at, line: finding.line ?? Number.MAX_SAFE_INTEGER, seq: keyed.length, finding })
  sources.forEach((src, i) => {
    for (const f of validateObject(src)) add(i, { ...f, namespace: f.namespace ?? defaultNs })
  })
  for (const check of CHECKS)
    for (const f of check(inv)) {
      const entry = inv.origin.get(f)
      add(entry ? (order.get(entry.src) ?? 0) : 0, f)
    }
  keyed.sort((a, b) => a.at - b.at || a.line - b.line || a.seq - b.seq)
  return keyed.map((k) => k.finding)
}
