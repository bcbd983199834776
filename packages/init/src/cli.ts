// mesh-init's command line over the library: parse flags, pick families and backend, apply or clean.
import { applyRules, cleanRules, type FamilyResult } from './apply.ts'
import { availableBackends, backendsToInspect, detectBackend, podHasIpv6 } from './detect.ts'
import { INSTALL_IPTABLES_HINT, InitError } from './errors.ts'
import { type ParsedArgs, parseArgs, USAGE } from './options.ts'
import { cleanScript, parseSave } from './restore-script.ts'
import { buildRules, type IpFamily } from './rules.ts'
import { ExecIptablesRunner } from './runner.ts'

export interface CliIo {
  out(text: string): void
  err(text: string): void
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
}

function familiesFor(args: ParsedArgs): IpFamily[] {
  const v6 = args.ipv6 === 'on' || (args.ipv6 === 'auto' && podHasIpv6())
  return v6 ? [4, 6] : [4]
}

function familyLabel(family: IpFamily): string {
  return family === 6 ? 'ip6tables-restore --noflush' : 'iptables-restore --noflush'
}

function printScripts(io: CliIo, results: FamilyResult[]): void {
  for (const { family, script } of results) {
    if (script !== undefined) io.out(`# ${familyLabel(family)}\n${script}`)
  }
}

async function apply(args: ParsedArgs, io: CliIo): Promise<void> {
  const families = familiesFor(args)
  if (args.dryRun) {
    for (const family of families) io.out(`# ${familyLabel(family)}\n${buildRules(args.options, family)}`)
    return
  }
  const backend = await detectBackend(args.backend)
  if (families.includes(6) && !availableBackends(6).includes(backend)) {
    throw new InitError(
      'MESH_ERR_IPTABLES_MISSING',
      `the pod has an IPv6 address but ip6tables (${backend}) is not installed; install it with: ${INSTALL_IPTABLES_HINT}`,
    )
  }
  const results = await applyRules(args.options, new ExecIptablesRunner({ backend }), families)
  printScripts(io, results)
  io.out(`mesh-init: capture rules installed (iptables ${backend}, IPv${families.join(' and IPv')})\n`)
}

async function clean(args: ParsedArgs, io: CliIo): Promise<void> {
  const available = availableBackends(4)
  if (available.length === 0) {
    throw new InitError(
      'MESH_ERR_IPTABLES_MISSING',
      `iptables is not installed; install it with: ${INSTALL_IPTABLES_HINT}`,
    )
  }
  let removed = 0
  for (const family of [4, 6] as const) {
    const backends =
      args.backend === 'auto' ? await backendsToInspect(family) : [await detectBackend(args.backend)]
    for (const backend of backends) {
      if (!availableBackends(family).includes(backend)) continue
      const runner = new ExecIptablesRunner({ backend })
      let results: FamilyResult[]
      try {
        results = args.dryRun ? await dryClean(runner, family) : await cleanRules(runner, [family])
      } catch (error) {
        // No IPv6 nat table in this kernel means there is nothing of ours in it either.
        if (family === 6 && error instanceof InitError && error.code === 'MESH_ERR_IPTABLES_SAVE') continue
        throw error
      }
      printScripts(io, results)
      removed += results.filter((r) => r.script !== undefined).length
    }
  }
  io.out(
    removed === 0
      ? 'mesh-init: nothing to clean\n'
      : `mesh-init: capture rules ${args.dryRun ? 'would be ' : ''}removed (${removed} table${removed > 1 ? 's' : ''})\n`,
  )
}

async function dryClean(runner: ExecIptablesRunner, family: IpFamily): Promise<FamilyResult[]> {
  return [{ family, script: cleanScript(parseSave(await runner.save(family))) }]
}

/** Runs mesh-init with `argv` (no node/script); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    const args = parseArgs(argv)
    if (args.command === 'help') {
      io.out(`${USAGE}\n`)
      return 0
    }
    if (args.command === 'clean') await clean(args, io)
    else await apply(args, io)
    return 0
  } catch (error) {
    if (error instanceof InitError) {
      io.err(`mesh-init: ${error.message} [${error.code}]\n`)
      if (error.code === 'MESH_ERR_IPTABLES_BAD_FLAG') io.err(`${USAGE}\n`)
      return error.code === 'MESH_ERR_IPTABLES_BAD_FLAG' || error.code === 'MESH_ERR_IPTABLES_UNSUPPORTED'
        ? 2
        : 1
    }
    io.err(`mesh-init: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return 1
  }
}
