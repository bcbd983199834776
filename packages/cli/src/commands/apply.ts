// meshctl apply -f FILE: create or update objects on either cluster kind (the local cluster, or
// Kubernetes through server-side apply), then say which mesh resources meshd rejected; with --wait,
// return only once every proxy has ACKed the change (`meshctl local apply` is this on the local cluster).
import { readManifests } from '../local/read-manifests.ts'
import { applyObjects, checkWithMeshd } from '../mesh/apply.ts'
import { resolveTarget, TARGET_OPTIONS } from '../mesh/target.ts'
import { commandOptions, timeoutOption } from './options.ts'
import { type Command, UsageError } from './types.ts'

const SUMMARY =
  'create or update objects; warns when meshd rejects a mesh resource (--wait: until proxies have it)'

const USAGE = `meshctl apply -f FILE|DIR|- [-n NS] [--wait] [--timeout 60s] [--local | --kubeconfig FILE --context NAME]

Prints a warning for each mesh resource meshd rejects (its previous version keeps serving; meshctl
get shows why). --wait: returns only once every proxy has ACKed configuration that includes the
change; exits 1 when a resource was rejected or the proxies do not ACK within --timeout (naming
them). On Kubernetes it is a server-side apply (field manager meshctl-apply), as kubectl apply
--server-side, through the same admission webhooks.
Where: --local [--run-dir DIR] (the local cluster; the default when one runs), or Kubernetes by
--kubeconfig FILE / --context NAME (default $KUBECONFIG or ~/.kube/config).`

const OPTIONS = commandOptions(
  {
    filename: {
      type: 'list',
      short: 'f',
      arg: 'FILE|DIR|-',
      help: 'manifests: a file, a directory, or - for stdin (repeatable)',
    },
    namespace: { type: 'string', short: 'n', arg: 'NS', help: 'namespace of objects that name none' },
    wait: { type: 'boolean', help: 'return only once every proxy has ACKed the change' },
    timeout: timeoutOption(60_000, 'how long --wait waits'),
    ...TARGET_OPTIONS,
  },
  USAGE,
  { allowPositionals: true },
)

export const apply: Command = {
  name: 'apply',
  summary: SUMMARY,
  usage: OPTIONS.usage(),
  // --help prints all of it; a usage error only its Usage: line.
  help: () => `${SUMMARY}\n\nUsage: ${OPTIONS.usage()}\n`,
  async run(args, io) {
    const { values, positionals } = OPTIONS.parse(args)
    if (positionals.length > 0) throw new UsageError(`unexpected "${positionals[0]}": give files with -f`)
    const objects = await readManifests([...values.filename], io.cwd, io.stdin, values.namespace)
    const target = resolveTarget(values)
    const results = await applyObjects(io, target, objects)
    return checkWithMeshd(
      io,
      target,
      results.map((r) => r.ref),
      { wait: values.wait, timeoutMs: values.timeout },
    )
  },
}
