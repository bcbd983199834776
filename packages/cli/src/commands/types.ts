/** A meshctl command: a name, a one-line summary, usage text, and a run function returning the exit code. */
export interface Command {
  name: string
  summary: string
  usage: string
  run(args: string[], io: CommandIo): Promise<number>
}

/** Where a command writes; tests pass their own. */
export interface CommandIo {
  out: (text: string) => void
  err: (text: string) => void
  stdin: NodeJS.ReadableStream
  cwd: string
}

export class UsageError extends Error {
  readonly code = 'MESH_ERR_CLI_USAGE'
}
