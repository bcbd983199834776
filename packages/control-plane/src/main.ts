// meshd's entry: its start-up settings first (launch.ts), then the command line (cli.ts).
import { relaunch } from '@minimesh/api/launch'
import { MESHD_LAUNCH } from './launch.ts'

relaunch(MESHD_LAUNCH)
const { main } = await import('./cli.ts')
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(`meshd: ${(err as Error).stack ?? err}`)
    process.exitCode = 1
  },
)
