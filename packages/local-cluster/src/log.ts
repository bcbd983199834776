// The package's logger: structured JSON (pino) to stderr or a file, silent unless asked in tests.
import { type DestinationStream, destination, type Logger, pino } from 'pino'

export function createLogger(opts: { level?: string; file?: string } = {}): Logger {
  const dest: DestinationStream = opts.file
    ? destination({ dest: opts.file, append: true, sync: true })
    : destination(2)
  return pino({ name: 'local-cluster', level: opts.level ?? process.env.MINIMESH_LOG_LEVEL ?? 'info' }, dest)
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
