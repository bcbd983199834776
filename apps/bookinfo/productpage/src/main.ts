// productpage: reads PORT, HOST, LOG_LEVEL, SESSION_SECRET, and DETAILS_/REVIEWS_/RATINGS_HOSTNAME,
// *_SERVICE_PORT and SERVICES_DOMAIN for its peers (default http://details:9080 and so on), listens,
// and shuts down gracefully on SIGTERM.
import {
  createLogger,
  handleShutdownSignals,
  readHost,
  readLogLevel,
  readPort,
  upstreamUrl,
} from '@minimesh/bookinfo-common'
import { startProductpage } from './app.ts'

const logger = createLogger({ name: 'productpage' })
try {
  const env = process.env
  const log = createLogger({ name: 'productpage', level: readLogLevel(env) })
  const peers = {
    detailsUrl: upstreamUrl(env, 'details'),
    reviewsUrl: upstreamUrl(env, 'reviews'),
    ratingsUrl: upstreamUrl(env, 'ratings'),
  }
  const started = await startProductpage({
    ...peers,
    sessionSecret: env.SESSION_SECRET?.trim() || undefined,
    logger: log,
    port: readPort(env, 'PORT', 9080),
    host: readHost(env),
  })
  handleShutdownSignals(started, log)
  log.info({ port: started.port, url: started.url, ...peers }, 'listening')
} catch (err) {
  logger.fatal({ err }, 'productpage did not start')
  process.exit(1)
}
