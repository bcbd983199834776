import { COMMANDS } from './commands/index.ts'
import { type CommandIo, UsageError } from './commands/types.ts'

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length))
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return `meshctl: control minimesh, a small service mesh for Kubernetes\n\nUsage: meshctl <command> [flags]\n\nCommands:\n${lines.join('\n')}\n\nRun \`meshctl <command> --help\` for a command's flags.\n`
}

/** Runs meshctl with argv (without node and script); returns the exit code. */
export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(help())
    return 0
  }
  if (name === '--version') return runCli(['version'], io)
  const entry = COMMANDS[name]
  if (!entry) {
    io.err(`meshctl: unknown command "${name}"\n\n${help()}`)
    return 2
  }
  const cmd = await entry.load()
  const dash = rest.indexOf('--')
  const flags = dash < 0 ? rest : rest.slice(0, dash)
  if (flags.includes('--help') || flags.includes('-h')) {
    io.out(
      cmd.help?.(flags.filter((a) => a !== '--help' && a !== '-h')) ??
        `${cmd.summary}\n\nUsage: ${cmd.usage}\n`,
    )
    return 0
  }
  try {
    return await cmd.run(rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      const sub = cmd.help?.(rest)
      io.err(
        sub
          ? `meshctl ${name}: ${err.message}\n${sub.split('\n').find((l) => l.startsWith('Usage:'))}\n`
          : `meshctl ${name}: ${err.message}\nUsage: ${cmd.usage.split('\n\n')[0]}\n`,
      )
      return 2
    }
    const e = err as Error & { code?: string }
    io.err(`meshctl ${name}: ${e.message}${e.code ? ` [${e.code}]` : ''}\n`)
    return 1
  }
}
