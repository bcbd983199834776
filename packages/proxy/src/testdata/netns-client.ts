// Run inside a test network namespace: one HTTP GET to argv[2] (URL) with Host argv[3]; prints
// the status and body as one JSON line.
import http from 'node:http'

const [url = '', host = ''] = process.argv.slice(2)
const req = http.get(url, { headers: { host }, agent: false }, (res) => {
  let body = ''
  res.on('data', (c: Buffer) => {
    body += c
  })
  res.on('end', () => process.stdout.write(`${JSON.stringify({ status: res.statusCode, body })}\n`))
})
req.on('error', (err) => process.stdout.write(`${JSON.stringify({ error: err.message })}\n`))
