// meshctl manifest generate: the install manifests (what `meshctl install` applies) on stdout.
import { stringify } from 'yaml'
import { installManifests } from '../install/manifests.ts'
import { TRACING_FLAGS, tracingFromFlags } from '../install/tracing.ts'
import { commandOptions, IMAGE_OPTIONS } from './options.ts'
import { type Command, UsageError } from './types.ts'

const OPTIONS = commandOptions(
  {
    namespace: {
      type: 'string',
      short: 'n',
      defaultText: 'minimesh-system',
      help: "the control plane's namespace",
    },
    ...IMAGE_OPTIONS,
    'without-gateway': { type: 'boolean', help: 'leave the ingress gateway out' },
    ...TRACING_FLAGS,
    output: { type: 'enum', values: ['yaml', 'json'], short: 'o', default: 'yaml', help: 'output format' },
  },
  `meshctl manifest generate [--namespace minimesh-system] [--hub minimesh] [--tag VERSION]
                          [--without-gateway] [-o yaml|json] [--trace-collector URL ...]

Prints the CRDs, the control plane (meshd, its RBAC, webhook certificate and webhook
configurations) and the ingress gateway as Kubernetes manifests. A new webhook CA and serving
certificate are generated on every run.`,
  { allowPositionals: true },
)

export const manifest: Command = {
  name: 'manifest',
  summary: 'generate the install manifests (CRDs, meshd, webhooks, ingress gateway)',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values, positionals } = OPTIONS.parse(args)
    if (positionals[0] !== 'generate' || positionals.length > 1)
      throw new UsageError('the subcommand is `generate`')
    const { output } = values
    const tracing = tracingFromFlags(values)
    if (typeof tracing === 'string') throw new UsageError(tracing)
    const objects = await installManifests({
      ...(tracing ? { tracing } : {}),
      namespace: values.namespace,
      hub: values.hub,
      tag: values.tag,
      withoutGateway: values['without-gateway'],
    })
    if (output === 'json')
      io.out(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`)
    else
      io.out(objects.map((o) => stringify(o, { aliasDuplicateObjects: false, lineWidth: 0 })).join('---\n'))
    return 0
  },
}
