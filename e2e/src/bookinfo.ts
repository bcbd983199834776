import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'

const KUBE = fileURLToPath(new URL('../../apps/bookinfo/kube/', import.meta.url))

/** A Bookinfo manifest or traffic-management sample, by file name (`networking/virtual-service-all-v1.yaml`). */
export function sample(file: string): string {
  return readFileSync(`${KUBE}${file}`, 'utf8')
}

type ReviewsVersion = 'v1' | 'v2' | 'v3' | 'unavailable' | 'unknown'

export interface PageLoad {
  status: number
  ms: number
  version: ReviewsVersion
  body: string
}

/** A file of the e2e suite's own (e2e/fixtures). */
export function fixture(file: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url)), 'utf8')
}

/** Which reviews version rendered a productpage: v1 no stars, v2 black stars, v3 red stars. */
function reviewsVersion(html: string): ReviewsVersion {
  if (html.includes('Sorry, product reviews are currently unavailable for this book.')) return 'unavailable'
  const black = (html.match(/glyphicon-star(?:-empty)?" style="color:black"/g) ?? []).length
  const red = (html.match(/glyphicon-star(?:-empty)?" style="color:red"/g) ?? []).length
  if (black > 0 && red === 0) return 'v2'
  if (red > 0 && black === 0) return 'v3'
  if (black === 0 && red === 0 && html.includes('Reviews served by')) return 'v1'
  return 'unknown'
}

const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 })

export async function loadPage(base: string, cookie?: string): Promise<PageLoad> {
  const t0 = performance.now()
  const res = await request(`${base}/productpage`, { dispatcher: agent, headers: cookie ? { cookie } : {} })
  const body = await res.body.text()
  return { status: res.statusCode, ms: performance.now() - t0, version: reviewsVersion(body), body }
}

/** Logs in through productpage's form and returns the session cookie. */
export async function login(base: string, user: string): Promise<string> {
  const res = await request(`${base}/login`, {
    dispatcher: agent,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=${encodeURIComponent(user)}`,
  })
  await res.body.dump()
  const set = res.headers['set-cookie']
  const first = Array.isArray(set) ? set[0] : set
  if (!first) throw new Error(`login as ${user} set no cookie (status ${res.statusCode})`)
  return first.split(';')[0]!
}

/** Loads the page `n` times, `concurrency` at a time. */
export async function loadPages(
  base: string,
  n: number,
  concurrency = 8,
  cookie?: string,
): Promise<PageLoad[]> {
  const out: PageLoad[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++
        out.push(await loadPage(base, cookie))
      }
    }),
  )
  return out
}

export function countBy<T extends string>(items: readonly { version: T }[]): Record<string, number> {
  const c: Record<string, number> = {}
  for (const i of items) c[i.version] = (c[i.version] ?? 0) + 1
  return c
}

/** Prints one line per scenario, as the suite promises. */
export function report(scenario: string, details: Record<string, unknown>): void {
  console.log(`[e2e] ${scenario}: ${JSON.stringify(details)}`)
}

/** Sums the values of a Prometheus counter whose labels include every given pair. */
export function counter(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}
