/** A meshctl command: a name, a one-line summary, usage text, and a run function returning the exit code. */
export interface Command {
  name: string
  summary: string
  usage: string
  run(args: string[], io: CommandIo): Promise<number>
  /** The help for `meshctl NAME ARGS… --help` when it is narrower than `usage` (a subcommand's). */
  help?(args: string[]): string | undefined
}

/** Where a command writes; tests pass their own. */
export interface CommandIo {
  out: (text: string) => void
  err: (text: string) => void
  stdin: NodeJS.ReadableStream
  cwd: string
}

export { UsageError } from '../errors.ts'
