// Run inside a test network namespace: an HTTP app on 127.0.0.1:argv[2] answering JSON with what
// it received (the proxy's upstream in the netns test).
import http from 'node:http'

const port = Number(process.argv[2])
http
  .createServer((req, res) => res.end(JSON.stringify({ app: 'reviews', url: req.url, headers: req.headers })))
  .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'))
