import { type DestinationStream, type Logger, pino } from 'pino'

export interface LoggerOptions {
  /** The app's name, logged as `app` on every line. */
  readonly name: string
  /** pino level; default `info`. */
  readonly level?: string
  /** Where lines go; default stdout, written synchronously. */
  readonly destination?: DestinationStream
}

/** A JSON-lines logger: ISO time, textual level, and the app's name on every line. */
export function createLogger(options: LoggerOptions): Logger {
  const config = {
    level: options.level ?? 'info',
    base: { app: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  }
  // Synchronous writes: lines stay in order and nothing is lost when the process exits right after.
  return pino(config, options.destination ?? pino.destination({ dest: 1, sync: true }))
}

/** A logger that writes nothing: the default of the app builders when none is given. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
