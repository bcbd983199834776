// A process for launch.test.ts: relaunches itself with the given settings, then reports what it
// runs with (pid, V8 flags, environment, whether the relaunch mark is still visible).
import { relaunch } from '../launch.ts'

relaunch({
  flags: ['--max-semi-space-size=2'],
  env: { LAUNCH_TEST_VAR: 'set' },
  override: 'LAUNCH_TEST_FLAGS',
})
process.stdout.write(
  JSON.stringify({
    pid: process.pid,
    execArgv: process.execArgv,
    variable: process.env.LAUNCH_TEST_VAR ?? null,
    mark: process.env.MINIMESH_RELAUNCHED ?? null,
  }),
)
