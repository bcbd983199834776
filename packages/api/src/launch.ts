// Start-up settings a binary needs before V8 and the C library initialize: V8 flags (the young
// generation's size) and glibc malloc's environment. A binary calls relaunch() first thing; when
// something is missing it re-executes itself once with it (process.execve: same pid, no second
// process). No imports, so that it costs nothing to load before the rest.

export interface LaunchSettings {
  /** V8/Node flags, e.g. `--max-semi-space-size=8`. */
  flags: readonly string[]
  /** Environment the C library reads at start (MALLOC_*), set when absent. */
  env?: Readonly<Record<string, string>>
  /** Variable that replaces `flags` when set ('' = none), e.g. MESHD_NODE_FLAGS. */
  override: string
}

const MARK = 'MINIMESH_RELAUNCHED'

/**
 * What a relaunch would add: flags not already given (on the command line or in NODE_OPTIONS,
 * compared by name) and environment variables not already set.
 */
export function missingSettings(
  settings: LaunchSettings,
  process_: { execArgv: readonly string[]; env: Readonly<Record<string, string | undefined>> },
): { flags: string[]; env: Record<string, string> } {
  const { env } = process_
  const wanted = env[settings.override] ?? settings.flags.join(' ')
  const given = `${process_.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''}`
  const flags = wanted
    .split(/\s+/)
    .filter(Boolean)
    .filter((f) => !given.includes(f.split('=')[0]!))
  const extra: Record<string, string> = {}
  for (const [k, v] of Object.entries(settings.env ?? {})) if (env[k] === undefined) extra[k] = v
  return { flags, env: extra }
}

/**
 * Re-executes this process with the missing settings, once; returns when nothing is missing. The
 * mark that says "relaunched" is removed again at once, so that processes this one starts (of
 * another binary) make their own choice.
 */
export function relaunch(settings: LaunchSettings): void {
  if (process.env[MARK] === settings.override) {
    delete process.env[MARK]
    return
  }
  if (typeof process.execve !== 'function') return
  const missing = missingSettings(settings, process)
  if (missing.flags.length === 0 && Object.keys(missing.env).length === 0) return
  process.execve(
    process.execPath,
    [process.execPath, ...missing.flags, ...process.execArgv, ...process.argv.slice(1)],
    { ...process.env, ...missing.env, [MARK]: settings.override },
  )
}
