import type { LaunchSettings } from '@minimesh/api/launch'

/**
 * How meshd's process starts (main.ts relaunches itself with these when missing). At 1,000
 * proxies (`pnpm bench:control-plane`) its resident memory was mostly not live data: V8 let the
 * young generation grow to 128 MB (it sizes it from the machine's memory), and glibc kept freed
 * 64 KB socket read buffers of 1,000 HTTP/2 connections in fragmented heaps. An 8 MB semi-space
 * and mmap for blocks from 64 KB (returned to the system when freed) took peak RSS from ~570 MB
 * to ~330 MB at the same push latency. MESHD_NODE_FLAGS replaces the flags ('' = none).
 */
export const MESHD_LAUNCH: LaunchSettings = {
  flags: ['--max-semi-space-size=8'],
  env: { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '65536' },
  override: 'MESHD_NODE_FLAGS',
}
