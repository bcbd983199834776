// Errors of meshctl (the install and kind tooling keep theirs in install/errors.ts). Each message
// says what went wrong and what to do next; `meshctl` prints it with the code in brackets.
import { defineCodes, MeshError } from '@minimesh/api/errors'

const CLI_ERRORS = defineCodes({
  /** Wrong arguments: the message is followed by the command's usage line (exit 2). */
  MESH_ERR_CLI_USAGE: {},
  /** An input file or directory that cannot be read or holds nothing. */
  MESH_ERR_CLI_INPUT: {},
  /** meshd's monitoring server cannot be reached or answered an error. */
  MESH_ERR_CLI_MESHD: {},
  /** A proxy's admin endpoint cannot be reached. */
  MESH_ERR_CLI_PROXY_ADMIN: {},
  /** A wait for meshd or the proxies to take a change ran out of time. */
  MESH_ERR_CLI_SYNC_TIMEOUT: {},
  /** What to talk to (local cluster, Kubernetes, meshd) cannot do what was asked. */
  MESH_ERR_CLI_TARGET: {},
})
export type CliErrorCode = keyof typeof CLI_ERRORS

export class CliError extends MeshError<CliErrorCode> {
  static override readonly codes = CLI_ERRORS
}

/** Wrong arguments; `meshctl` prints the usage after the message. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MESH_ERR_CLI_USAGE', message, options)
  }
}

/** An input that cannot be used: missing file, nothing in it. No usage text follows. */
export class InputError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MESH_ERR_CLI_INPUT', message, options)
  }
}
