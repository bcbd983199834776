// A client for tests that exec in a pod: GET the URL given, print {status, body} as JSON on one
// line (a failure goes to stderr, exit 1). Run with the host's node in the pod's netns.
const url = process.argv[2]
if (!url) {
  process.stderr.write('usage: fetch.ts URL\n')
  process.exit(2)
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) })
  process.stdout.write(`${JSON.stringify({ status: res.status, body: await res.text() })}\n`)
} catch (err) {
  process.stderr.write(`${(err as Error).message}: ${String((err as { cause?: unknown }).cause ?? '')}\n`)
  process.exit(1)
}
