import type { Command } from './types.ts'
import { version } from './version.ts'

/**
 * Every meshctl command, loaded on demand so `meshctl version` does not pull in the control plane.
 * Add one line per command here.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  version: { summary: version.summary, load: async () => version },
  local: {
    summary: 'run a local cluster (pods as netns on this host)',
    load: async () => (await import('./local.ts')).local,
  },
  manifest: {
    summary: 'generate the install manifests',
    load: async () => (await import('./manifest.ts')).manifest,
  },
  install: {
    summary: 'install minimesh into a Kubernetes cluster',
    load: async () => (await import('./install.ts')).install,
  },
  uninstall: {
    summary: 'remove minimesh from a Kubernetes cluster',
    load: async () => (await import('./uninstall.ts')).uninstall,
  },
  apply: {
    summary: 'create or update objects, with what meshd made of them (--wait: until proxies have it)',
    load: async () => (await import('./apply.ts')).apply,
  },
  get: {
    summary: 'list objects; mesh resources with their status (Accepted / Rejected: why)',
    load: async () => (await import('./get.ts')).get,
  },
  analyze: { summary: 'check mesh config files', load: async () => (await import('./analyze.ts')).analyze },
  'kube-inject': { summary: 'add sidecars', load: async () => (await import('./kube-inject.ts')).kubeInject },
  describe: {
    summary: 'which rules apply to a pod or service, their effect, and what its proxy serves',
    load: async () => (await import('./describe.ts')).describe,
  },
  'proxy-status': {
    summary: "every proxy's config versions sent and ACKed, last NACK, synced or stale",
    load: async () => (await import('./proxy-status.ts')).proxyStatus,
  },
  wait: {
    summary: 'wait until every proxy has the current mesh configuration (--for=sync)',
    load: async () => (await import('./wait.ts')).wait,
  },
  dashboard: {
    summary: 'open the mesh dashboard',
    load: async () => (await import('./dashboard.ts')).dashboard,
  },
  'proxy-config': {
    summary: "show a proxy's routes, clusters, listeners, endpoints",
    load: async () => (await import('./proxy-config.ts')).proxyConfig,
  },
}
