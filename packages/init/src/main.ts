// mesh-init: installs (or with `clean`, removes) the pod's iptables capture rules. See cli.ts.
import { runCli } from './cli.ts'

// `mesh-init --dry-run | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

process.exitCode = await runCli(process.argv.slice(2))
