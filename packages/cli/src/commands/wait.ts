// meshctl wait --for=sync: returns once meshd has read every mesh resource the cluster holds and
// every proxy has ACKed configuration built from it; fails naming who has not and why.
import { outcomeText } from '@minimesh/api'
import { clusterVersions, waitMeshdRead, waitProxiesSynced } from '../mesh/sync.ts'
import { type MeshTarget, resolveTarget, TARGET_OPTIONS, TARGET_USAGE } from '../mesh/target.ts'
import { commandOptions, timeoutOption } from './options.ts'
import { type Command, type CommandIo, UsageError } from './types.ts'

/**
 * Waits for sync on `target`; prints progress and the outcome; returns the exit code (1 when a
 * mesh resource is rejected, so what was asked for is not what serves).
 */
export async function waitForSync(target: MeshTarget, io: CommandIo, timeoutMs: number): Promise<number> {
  const t0 = Date.now()
  const progress = (m: string) => io.err(`  waiting: ${m}\n`)
  const wanted = await (async () => {
    try {
      return await clusterVersions(target)
    } catch {
      return undefined // --meshd: no cluster to list; the newest snapshot is the goal
    }
  })()
  const configz = await waitMeshdRead(target, wanted ?? [], {
    timeoutMs,
    onProgress: progress,
    exhaustive: wanted !== undefined,
  })
  const snapshot = configz.snapshot!.version
  const left = Math.max(1000, timeoutMs - (Date.now() - t0))
  const proxies = await waitProxiesSynced(target, snapshot, {
    timeoutMs: left,
    onProgress: progress,
    allowNoProxies: true,
  })
  io.out(
    `synced: ${proxies.length} ${proxies.length === 1 ? 'proxy has' : 'proxies have'} ACKed snapshot ${snapshot} (${((Date.now() - t0) / 1000).toFixed(1)}s)\n`,
  )
  const rejected = configz.objects.filter((o) => o.state === 'rejected')
  for (const o of rejected)
    io.err(`Warning: ${o.kind} ${o.namespace ?? 'default'}/${o.name}: ${outcomeText(o)}\n`)
  return rejected.length > 0 ? 1 : 0
}

const OPTIONS = commandOptions(
  {
    for: { type: 'enum', values: ['sync'], help: 'what to wait for' },
    timeout: timeoutOption(60_000, 'give up (exit 1) after this long'),
    ...TARGET_OPTIONS,
  },
  `meshctl wait --for=sync [--timeout 60s] [--local | --kubeconfig FILE --context NAME | --meshd HOST:PORT]

Returns when meshd has read every VirtualService, DestinationRule, Gateway and QuotaPolicy the
cluster holds, at the version the cluster holds, and every proxy has ACKed configuration built
from it. Exits 1 on timeout (naming the proxies not synced and their last NACK) or when a
resource is rejected (its previous version keeps serving). ${TARGET_USAGE}`,
)

export const wait: Command = {
  name: 'wait',
  summary: 'wait until every proxy has the current mesh configuration (--for=sync)',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values } = OPTIONS.parse(args)
    if (values.for !== 'sync') throw new UsageError('say what to wait for: --for=sync')
    return waitForSync(resolveTarget(values), io, values.timeout)
  },
}
