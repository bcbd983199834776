// ratings: reads PORT, HOST, LOG_LEVEL, SERVICE_VERSION (v1, v-faulty, v-delayed, v-unavailable) and
// RATINGS_DELAY (v-delayed's delay, default 7s), listens, and shuts down gracefully on SIGTERM.
import {
  createLogger,
  handleShutdownSignals,
  readDurationMs,
  readHost,
  readLogLevel,
  readPort,
} from '@minimesh/bookinfo-common'
import { DEFAULT_DELAY_MS, startRatings } from './app.ts'
import { parseServiceVersion } from './variants.ts'

const logger = createLogger({ name: 'ratings' })
try {
  const env = process.env
  const log = createLogger({ name: 'ratings', level: readLogLevel(env) })
  const version = parseServiceVersion(env.SERVICE_VERSION)
  const delayMs = readDurationMs(env, 'RATINGS_DELAY', DEFAULT_DELAY_MS)
  const started = await startRatings({
    logger: log,
    version,
    delayMs,
    port: readPort(env, 'PORT', 9080),
    host: readHost(env),
  })
  handleShutdownSignals(started, log)
  log.info({ port: started.port, url: started.url, version, delayMs }, 'listening')
} catch (err) {
  logger.fatal({ err }, 'ratings did not start')
  process.exit(1)
}
