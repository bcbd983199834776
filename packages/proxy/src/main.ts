// mesh-proxy's entry: its start-up settings first (relaunch() from @minimesh/api/launch: one
// process.execve, same pid, before anything else is loaded), then the command line (cli.ts).
// Under load the proxy's resident memory is mostly V8's young generation, which V8 sizes from the
// machine's memory (up to 64 MB per semi-space on a large node), and glibc's malloc arenas (one
// per thread that allocates, up to 8 per core: V8's compiler and GC threads each grow one). So:
// a 2 MB semi-space (a 4 MB one was measured ~25 MB less at peak than V8's own size, for a GC
// share of ~4 % instead of ~3 %; 2 MB takes another 3.5 MB off the peak of anonymous memory, 38
// against 41.6 MB in `pnpm bench:proxy:ab --rss --a-flags=--max-semi-space-size=2`, with no loss
// of throughput the same tool could see) and MALLOC_ARENA_MAX=2 (peaks of 95–110 MB instead of
// 105–150 MB under the benchmark's load, same throughput). MESH_PROXY_NODE_FLAGS replaces the flags ('' = none); flags already given (command
// line or NODE_OPTIONS) and a MALLOC_ARENA_MAX already set are left alone.
import { relaunch } from '@minimesh/api/launch'

relaunch({
  flags: ['--max-semi-space-size=2'],
  env: { MALLOC_ARENA_MAX: '2' },
  override: 'MESH_PROXY_NODE_FLAGS',
})
const { main } = await import('./cli.ts')
main(process.argv.slice(2)).catch((err: Error & { code?: string }) => {
  console.error(`mesh-proxy: ${err.message}${err.code ? ` [${err.code}]` : ''}`)
  process.exit(1)
})
