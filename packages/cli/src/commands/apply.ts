// meshctl apply -f FILE: create or update objects on either cluster kind (the local cluster, or
// Kubernetes through server-side apply), then say which mesh resources meshd rejected; with --wait,
// return only once every proxy has ACKed the change (`meshctl local apply` is this on the local cluster).
import { parseArgs } from 'node:util'
import { readManifests } from '../local/read-manifests.ts'
import { applyObjects, checkWithMeshd } from '../mesh/apply.ts'
import { resolveTarget, TARGET_OPTIONS } from '../mesh/target.ts'
import { type Command, UsageError } from './types.ts'
import { parseDuration } from './wait.ts'

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

export const apply: Command = {
  name: 'apply',
  summary: SUMMARY,
  usage: USAGE,
  // --help prints all of it; a usage error only its Usage: line.
  help: () => `${SUMMARY}\n\nUsage: ${USAGE}\n`,
  async run(args, io) {
    let values: Record<string, string | string[] | boolean | undefined>
    let positionals: string[]
    try {
      ;({ values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: {
          filename: { type: 'string', short: 'f', multiple: true },
          namespace: { type: 'string', short: 'n' },
          wait: { type: 'boolean' },
          timeout: { type: 'string' },
          ...TARGET_OPTIONS,
        },
        strict: true,
      }))
    } catch (err) {
      throw new UsageError((err as Error).message)
    }
    if (positionals.length > 0) throw new UsageError(`unexpected "${positionals[0]}": give files with -f`)
    const objects = await readManifests(
      (values.filename as string[] | undefined) ?? [],
      io.cwd,
      io.stdin,
      values.namespace as string | undefined,
    )
    const target = resolveTarget(values as Record<string, string>)
    const results = await applyObjects(io, target, objects)
    return checkWithMeshd(
      io,
      target,
      results.map((r) => r.ref),
      {
        wait: values.wait === true,
        timeoutMs: parseDuration(values.timeout as string | undefined, 60_000),
      },
    )
  },
}
