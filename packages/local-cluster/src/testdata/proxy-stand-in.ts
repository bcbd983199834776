// Stand-in for the sidecar in tests of the admission path (the real proxy is tested elsewhere):
// answers /healthz/ready on 15021 and, on 15020, who it is (uid, argv, env). `wait` (the classic
// sidecar's postStart hook) polls 15021 as mesh-proxy wait does.
import { createServer, get } from 'node:http'

if (process.argv[2] === 'wait') {
  const poll = () =>
    get('http://127.0.0.1:15021/healthz/ready', (r) => {
      r.resume()
      if (r.statusCode === 200) process.exit(0)
      setTimeout(poll, 100)
    }).on('error', () => setTimeout(poll, 100))
  poll()
  await new Promise(() => {})
}

const who = JSON.stringify({
  uid: process.getuid?.(),
  gid: process.getgid?.(),
  argv: process.argv.slice(2),
  env: Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(POD_|INSTANCE_IP|SERVICE_ACCOUNT|MESH_)/.test(k)),
  ),
})
const servers = [
  createServer((_q, s) => s.end('ok')).listen(15021, '0.0.0.0'),
  createServer((_q, s) => s.end(who)).listen(15020, '0.0.0.0'),
]
process.stdout.write(`proxy stand-in up as uid ${process.getuid?.()}\n`)
process.on('SIGTERM', () => {
  for (const s of servers) s.close()
  process.exit(0)
})
