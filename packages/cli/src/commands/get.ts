// meshctl get KIND [NAME]: objects as the cluster holds them, on either cluster kind; for mesh
// resources a STATUS column with what meshd made of them ("Accepted (generation 4)", "Rejected: …;
// serving generation 3", "Pending: …"). On Kubernetes that is the status meshd wrote to the API
// server; on the local cluster, meshd's verdict read from it (`meshctl local get` is this command).
import { kindByName } from '@minimesh/local-cluster'
import { formatObjects } from '../local/format.ts'
import { getWithStatus } from '../mesh/objects.ts'
import { DirectTarget, type MeshTarget, resolveTarget, TARGET_OPTIONS } from '../mesh/target.ts'
import { commandOptions } from './options.ts'
import { type Command, type CommandIo, UsageError } from './types.ts'

/** The flags of `get` (both `meshctl get` and `meshctl local get`). */
export const GET_FLAGS = {
  namespace: { type: 'string', short: 'n', arg: 'NS', defaultText: 'default', help: 'namespace' },
  'all-namespaces': { type: 'boolean', short: 'A', help: 'every namespace' },
  selector: { type: 'string', short: 'l', arg: 'SELECTOR', help: 'label selector (app=reviews,version!=v1)' },
  output: {
    type: 'enum',
    values: ['wide', 'yaml', 'json', 'name'],
    short: 'o',
    defaultText: 'a table',
    help: 'output format',
  },
} as const

interface GetValues {
  namespace?: string | undefined
  'all-namespaces'?: boolean
  selector?: string | undefined
  output?: string | undefined
}

/** Lists KIND (or one NAME) on `target` and prints it as kubectl would. */
export async function getCommand(
  target: MeshTarget,
  positionals: readonly string[],
  values: GetValues,
  io: CommandIo,
): Promise<number> {
  const [kindArg, nameArg, extra] = positionals
  if (!kindArg) throw new UsageError('get needs a KIND (vs, dr, gw, pods, svc, …)')
  if (extra !== undefined) throw new UsageError(`get takes one KIND and at most one NAME, got "${extra}" too`)
  if (target instanceof DirectTarget)
    throw new UsageError('get reads a cluster: use --local or a kubeconfig (--meshd reaches meshd only)')
  const [kind, slashName] = kindArg.split('/')
  const name = slashName ?? nameArg
  const info = kindByName(kind!)
  const all = values['all-namespaces'] === true
  const ns = info.namespaced && !all ? (values.namespace ?? 'default') : undefined
  const items = await getWithStatus(target, info, ns, name, values.selector)
  if (name && items.length === 0)
    throw new Error(`${info.plural} "${name}" not found${ns ? ` in namespace ${ns}` : ''}`)
  if (items.length === 0 && !values.output) {
    io.err(ns ? `No resources found in ${ns} namespace.\n` : 'No resources found\n')
    return 0
  }
  io.out(formatObjects(items, values.output, all && info.namespaced))
  return 0
}

const SUMMARY = 'list objects; mesh resources with what meshd made of them (Accepted / Rejected / Pending)'

const USAGE = `meshctl get KIND [NAME] [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [--local | --kubeconfig FILE --context NAME]

KIND as kubectl names it: vs, dr, gw, quotapolicies, pa, ap, pods, svc, deploy, … For mesh resources
the STATUS column says what meshd made of the version the cluster holds: Accepted (generation N);
Rejected: why; serving generation N (the previous good version keeps serving); or Pending (meshd has
not read it yet). -o yaml shows the whole status (conditions, observedGeneration, validationMessages).
Where: --local [--run-dir DIR] (the local cluster; the default when one runs), or Kubernetes by
--kubeconfig FILE / --context NAME (default $KUBECONFIG or ~/.kube/config).`

const OPTIONS = commandOptions({ ...GET_FLAGS, ...TARGET_OPTIONS }, USAGE, { allowPositionals: true })

export const get: Command = {
  name: 'get',
  summary: SUMMARY,
  usage: OPTIONS.usage(),
  // --help prints all of it; a usage error only its Usage: line.
  help: () => `${SUMMARY}\n\nUsage: ${OPTIONS.usage()}\n`,
  async run(args, io) {
    const { values, positionals } = OPTIONS.parse(args)
    return getCommand(resolveTarget(values), positionals, values, io)
  },
}
