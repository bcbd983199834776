/**
 * Requests sent from inside a meshed pod by one Node process (so the pod's sidecar captures them):
 * `count` GETs of `url`, `concurrency` at a time, each on its own connection. Both drivers run the
 * argv this builds with their own exec; the script prints one JSON array of {status, body}.
 */
export interface PodReply {
  status: number
  body: string
}

const SCRIPT = [
  'const [u, n, c, h] = process.argv.slice(1);',
  'const out = []; let next = 0;',
  'const one = () => fetch(u, { headers: JSON.parse(h), signal: AbortSignal.timeout(15000) })',
  '  .then(async (r) => ({ status: r.status, body: await r.text() }), (e) => ({ status: 0, body: String((e && e.cause) || e) }));',
  'const worker = async () => { while (next < Number(n)) { next++; out.push(await one()); } };',
  'Promise.all(Array.from({ length: Number(c) }, worker)).then(() => process.stdout.write(JSON.stringify(out)));',
].join('\n')

export function podLoadArgv(
  node: string,
  url: string,
  count: number,
  concurrency: number,
  headers: Record<string, string> = {},
): string[] {
  return [node, '-e', SCRIPT, url, String(count), String(concurrency), JSON.stringify(headers)]
}

export function parsePodLoad(stdout: string, where: string): PodReply[] {
  try {
    const v = JSON.parse(stdout) as PodReply[]
    if (Array.isArray(v)) return v
  } catch {
    // reported below
  }
  throw new Error(`requests from ${where} printed no result: ${stdout.slice(0, 300)}`)
}
