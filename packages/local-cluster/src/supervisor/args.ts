// The supervisor process's command line (main.ts, started by startSupervisor()): its option table.
import { defineOptions, invalid } from '@minimesh/api/options'
import type { LocalClusterOptions } from '../cluster.ts'
import { LocalClusterError } from '../errors.ts'

const SUPERVISOR_OPTIONS = defineOptions(
  {
    'run-dir': { type: 'string', arg: 'DIR', required: true, help: "the cluster's run directory" },
    options: {
      type: 'custom',
      arg: 'JSON',
      default: {},
      help: 'LocalClusterOptions as a JSON object (bridge, podCidr, serviceCidr, …)',
      parse: (text): LocalClusterOptions => {
        let value: unknown
        try {
          value = JSON.parse(text)
        } catch (err) {
          invalid(`not JSON: ${(err as Error).message}`)
        }
        if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('not a JSON object')
        return value as LocalClusterOptions
      },
    },
  },
  {
    usage: 'Usage: node src/main.ts --run-dir DIR [--options JSON]',
    error: (message, { cause }) => new LocalClusterError('MESH_ERR_LOCAL_INVALID', message, { cause }),
  },
)

/** The supervisor's argv (without node and the script) → its run dir and cluster options. */
export function parseSupervisorArgs(argv: readonly string[]): {
  runDir: string
  options: LocalClusterOptions
} {
  const { values } = SUPERVISOR_OPTIONS.parse(argv)
  return { runDir: values['run-dir'], options: values.options }
}
