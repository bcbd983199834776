// meshctl manifest generate: the install manifests (what `meshctl install` applies) on stdout.
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { installManifests } from '../install/manifests.ts'
import { TRACING_FLAGS, TRACING_FLAGS_USAGE, tracingFromFlags } from '../install/tracing.ts'
import { type Command, UsageError } from './types.ts'

const USAGE = `meshctl manifest generate [--namespace minimesh-system] [--hub minimesh] [--tag VERSION]
                          [--without-gateway] [-o yaml|json] [--trace-collector URL ...]

Prints the CRDs, the control plane (meshd, its RBAC, webhook certificate and webhook
configurations) and the ingress gateway as Kubernetes manifests. A new webhook CA and serving
certificate are generated on every run.

${TRACING_FLAGS_USAGE}`

export const manifest: Command = {
  name: 'manifest',
  summary: 'generate the install manifests (CRDs, meshd, webhooks, ingress gateway)',
  usage: USAGE,
  async run(args, io) {
    let parsed: ReturnType<
      typeof parseArgs<{
        args: string[]
        allowPositionals: true
        options: Record<string, { type: 'string' | 'boolean'; short?: string }>
      }>
    >
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          namespace: { type: 'string', short: 'n' },
          hub: { type: 'string' },
          tag: { type: 'string' },
          'without-gateway': { type: 'boolean' },
          ...TRACING_FLAGS,
          output: { type: 'string', short: 'o' },
        },
      })
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    const { values, positionals } = parsed
    if (positionals[0] !== 'generate' || positionals.length > 1)
      throw new UsageError('the subcommand is `generate`')
    const output = (values.output as string | undefined) ?? 'yaml'
    if (output !== 'yaml' && output !== 'json') throw new UsageError('-o must be yaml or json')
    const tracing = tracingFromFlags(values)
    if (typeof tracing === 'string') throw new UsageError(tracing)
    const objects = await installManifests({
      ...(tracing ? { tracing } : {}),
      namespace: values.namespace as string | undefined,
      hub: values.hub as string | undefined,
      tag: values.tag as string | undefined,
      withoutGateway: values['without-gateway'] === true,
    })
    if (output === 'json')
      io.out(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`)
    else
      io.out(objects.map((o) => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n'))
    return 0
  },
}
