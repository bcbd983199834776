// The local cluster's options and their defaults.
import { createHash } from 'node:crypto'
import type { Logger } from 'pino'
import type { ImageTable } from './images.ts'
import type { ObjectRef } from './kube/kinds.ts'
import type { HostExec } from './net/exec.ts'
import type { ApplyAction } from './store.ts'

export interface LocalClusterOptions {
  /** Default /var/run/minimesh-local (or $MINIMESH_LOCAL_RUN_DIR). */
  runDir?: string
  bridge?: string
  podCidr?: string
  serviceCidr?: string
  /** Prefix of pod netns names, default `mm` (→ `mm-default-reviews-v1-…`). */
  netnsPrefix?: string
  /** Prefix of veth names (≤ 4 characters), default `mm`. */
  linkPrefix?: string
  /** Prefix of iptables chains, default `MM`. */
  chainPrefix?: string
  images?: ImageTable
  clusterDomain?: string
  /** Cap on a pod's termination grace period, default 5 s (keeps `down` quick). */
  maxGraceSeconds?: number
  logger?: Logger
  exec?: HostExec
}

/** kubectl's annotation: what was applied last, so that applying it again changes nothing. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

export const DEFAULT_NETWORK = {
  bridge: 'mm0',
  podCidr: '198.18.0.0/16',
  serviceCidr: '198.19.0.0/16',
  netnsPrefix: 'mm',
  linkPrefix: 'mm',
  chainPrefix: 'MM',
} as const

/**
 * Prefixes that follow from a bridge name other than the default, so that a second cluster (a
 * test's) never shares netns, veth or chain names with the first: bridge `mmt4` → netns `mmt4-…`,
 * chains `MMT4-…`, veths `m<3 hex>h…`.
 */
export function derivedPrefixes(bridge: string | undefined): Partial<LocalClusterOptions> {
  if (!bridge || bridge === DEFAULT_NETWORK.bridge) return {}
  const clean = bridge.toLowerCase().replace(/[^a-z0-9]/g, '')
  return {
    netnsPrefix: clean,
    chainPrefix: clean.toUpperCase().slice(0, 12),
    linkPrefix: `m${createHash('sha256').update(bridge).digest('hex').slice(0, 3)}`,
  }
}

/** What `apply` did with one object. */
export interface ApplyResult {
  ref: ObjectRef
  action: ApplyAction
  warnings?: string[]
}
