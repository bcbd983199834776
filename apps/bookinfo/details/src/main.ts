// details: reads PORT, HOST and LOG_LEVEL, listens, and shuts down gracefully on SIGTERM.
import {
  createLogger,
  handleShutdownSignals,
  readHost,
  readLogLevel,
  readPort,
} from '@minimesh/bookinfo-common'
import { startDetails } from './app.ts'

const logger = createLogger({ name: 'details', level: 'info' })
try {
  const env = process.env
  const log = createLogger({ name: 'details', level: readLogLevel(env) })
  const started = await startDetails({ logger: log, port: readPort(env, 'PORT', 9080), host: readHost(env) })
  handleShutdownSignals(started, log)
  log.info({ port: started.port, url: started.url }, 'listening')
} catch (err) {
  logger.fatal({ err }, 'details did not start')
  process.exit(1)
}
