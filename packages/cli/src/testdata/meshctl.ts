// meshctl run in process for the command tests, with what it writes recorded.
import type { CommandIo } from '../commands/types.ts'
import { runCli } from '../run.ts'

/** A CommandIo whose stdout and stderr are recorded, a write an entry. */
export function recordingIo(cwd = process.cwd()): { io: CommandIo; out: string[]; err: string[] } {
  const out: string[] = []
  const err: string[] = []
  return {
    io: { out: (t) => out.push(t), err: (t) => err.push(t), stdin: process.stdin, cwd },
    out,
    err,
  }
}

/** Runs meshctl with these arguments: its exit code and all it wrote to stdout and to stderr. */
export async function meshctl(
  argv: string[],
  cwd?: string,
): Promise<{ code: number; out: string; err: string }> {
  const { io, out, err } = recordingIo(cwd)
  const code = await runCli(argv, io)
  return { code, out: out.join(''), err: err.join('') }
}
