// A meshctl command's flags: one option table (@minimesh/api/options) whose errors are usage errors
// (exit 2, the command's usage line after the message), and the flags every command shares.
import { defineOptions, type Options, type OptionTable } from '@minimesh/api/options'
import { UsageError } from '../errors.ts'

/** Declares a command's options; `usage` is the synopsis and description above the flag list. */
export function commandOptions<const T extends OptionTable>(
  table: T,
  usage: string,
  settings: { footer?: string; allowPositionals?: boolean } = {},
): Options<T> {
  return defineOptions(table, {
    usage,
    ...settings,
    error: (message, { cause }) => new UsageError(message, { cause }),
  })
}

/** `--timeout`, as every waiting command takes it: `300s`, `5m`, `1500ms`, or plain seconds. */
export function timeoutOption(defaultMs: number, help: string) {
  return { type: 'duration', bare: 's', default: defaultMs, help } as const
}

/** `--context` and `--kubeconfig`: the Kubernetes cluster that install and uninstall act on. */
export const KUBECONFIG_OPTIONS = {
  context: {
    type: 'string',
    arg: 'NAME',
    defaultText: "the kubeconfig's current context",
    help: 'kubeconfig context',
  },
  kubeconfig: {
    type: 'string',
    arg: 'FILE',
    defaultText: '$KUBECONFIG or ~/.kube/config',
    help: 'kubeconfig',
  },
} as const

/** `--hub` and `--tag`: where the install manifests' images come from. */
export const IMAGE_OPTIONS = {
  hub: { type: 'string', defaultText: 'minimesh', help: 'image registry and repository prefix' },
  tag: { type: 'string', arg: 'VERSION', defaultText: "meshctl's version", help: 'image tag' },
} as const
