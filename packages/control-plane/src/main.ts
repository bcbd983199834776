// meshd's entry: its start-up settings first (launch.ts), then the command line (cli.ts).
import { relaunch } from '@minimesh/api/launch'
import { MESHD_LAUNCH } from './launch.ts'

relaunch(MESHD_LAUNCH)
await import('./cli.ts')
