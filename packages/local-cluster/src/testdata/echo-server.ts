// Stand-in container for tests (not part of the mesh): an HTTP server on $PORT (8080) that tells
// who it is. GET /ready answers 200 once READY_AFTER_MS have passed; GET /crash exits with 3;
// GET /file?path=… reads a file (volumes); anything else returns the pod's identity as JSON.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'

const started = Date.now()
const readyAfter = Number(process.env.READY_AFTER_MS ?? 0)
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x')
  if (url.pathname === '/ready') {
    res.statusCode = Date.now() - started >= readyAfter ? 200 : 503
    return res.end()
  }
  if (url.pathname === '/crash') {
    res.end('bye')
    setTimeout(() => process.exit(3), 20)
    return
  }
  if (url.pathname === '/file') {
    const path = url.searchParams.get('path') ?? ''
    res.statusCode = existsSync(path) ? 200 : 404
    return res.end(existsSync(path) ? readFileSync(path, 'utf8') : 'missing')
  }
  res.setHeader('content-type', 'application/json')
  res.end(
    JSON.stringify({
      hostname: process.env.HOSTNAME,
      uid: process.getuid?.(),
      gid: process.getgid?.(),
      argv: process.argv.slice(2),
      env: Object.fromEntries(
        Object.entries(process.env).filter(([k]) => /^(POD_|MY_|ECHO_|SERVICE_ACCOUNT|LABEL)/.test(k)),
      ),
    }),
  )
})
server.listen(Number(process.env.PORT ?? 8080), '0.0.0.0', () => {
  process.stdout.write(`echo-server listening on ${process.env.PORT ?? 8080} as uid ${process.getuid?.()}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
