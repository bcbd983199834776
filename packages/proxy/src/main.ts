// mesh-proxy's entry. Under load the proxy's resident memory is mostly V8's young generation,
// which V8 sizes from the machine's memory (up to 64 MB per semi-space on a large node), and
// glibc's malloc arenas (one per thread that allocates, up to 8 per core: V8's compiler and GC
// threads each grow one). The process re-executes itself once (process.execve: same pid, no
// second process) before anything else is loaded, with a 4 MB semi-space (measured ~25 MB less at
// peak for a GC share of ~4 % instead of ~3 %) and MALLOC_ARENA_MAX=2 (peaks of 95–110 MB instead
// of 105–150 MB under the benchmark's load, same throughput). MESH_PROXY_NODE_FLAGS replaces the
// flags ('' = none); flags already given (command line or NODE_OPTIONS) and a MALLOC_ARENA_MAX
// already set are left alone. The command line itself is in cli.ts.
const DEFAULT_NODE_FLAGS = '--max-semi-space-size=4'
const DEFAULT_MALLOC_ARENA_MAX = '2'
const REEXEC_MARK = 'MESH_PROXY_REEXECUTED'

function reexecWithFlags(): void {
  const env = process.env
  if (env[REEXEC_MARK] || typeof process.execve !== 'function') return
  const flags = (env.MESH_PROXY_NODE_FLAGS ?? DEFAULT_NODE_FLAGS).split(/\s+/).filter(Boolean)
  const given = `${process.execArgv.join(' ')} ${env.NODE_OPTIONS ?? ''}`
  const missing = flags.filter((f) => !given.includes(f.split('=')[0]!))
  const arenas = env.MALLOC_ARENA_MAX === undefined ? { MALLOC_ARENA_MAX: DEFAULT_MALLOC_ARENA_MAX } : {}
  if (missing.length === 0 && Object.keys(arenas).length === 0) return
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
    { ...env, ...arenas, [REEXEC_MARK]: '1' },
  )
}

reexecWithFlags()
const { main } = await import('./cli.ts')
main(process.argv.slice(2)).catch((err: Error & { code?: string }) => {
  console.error(`mesh-proxy: ${err.message}${err.code ? ` [${err.code}]` : ''}`)
  process.exit(1)
})
