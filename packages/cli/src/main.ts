#!/usr/bin/env node
import { runCli } from './run.ts'

const code = await runCli(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: process.stdin,
  cwd: process.cwd(),
})
process.exitCode = code
