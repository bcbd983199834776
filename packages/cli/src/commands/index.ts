import type { Command } from './types.ts'
import { version } from './version.ts'

/**
 * Every meshctl command, loaded on demand so `meshctl version` does not pull in the control plane.
 * Add one line per command here.
 */
export const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  version: { summary: version.summary, load: async () => version },
  analyze: { summary: 'check mesh config files', load: async () => (await import('./analyze.ts')).analyze },
  'kube-inject': { summary: 'add sidecars', load: async () => (await import('./kube-inject.ts')).kubeInject },
}
