// reviews: reads PORT, HOST, LOG_LEVEL, ENABLE_RATINGS, STAR_COLOR, RATINGS_HOSTNAME,
// RATINGS_SERVICE_PORT, SERVICES_DOMAIN, POD_NAME (or HOSTNAME) and CLUSTER_NAME, listens, and
// shuts down gracefully on SIGTERM.
import { hostname } from 'node:os'
import {
  createLogger,
  handleShutdownSignals,
  readBoolean,
  readHost,
  readLogLevel,
  readPort,
  upstreamUrl,
} from '@minimesh/bookinfo-common'
import { startReviews } from './app.ts'
import { parseStarColor } from './reviews.ts'

const logger = createLogger({ name: 'reviews' })
try {
  const env = process.env
  const log = createLogger({ name: 'reviews', level: readLogLevel(env) })
  const options = {
    ratingsEnabled: readBoolean(env, 'ENABLE_RATINGS', false),
    starColor: parseStarColor(env.STAR_COLOR),
    ratingsUrl: upstreamUrl(env, 'ratings'),
    podName: env.POD_NAME?.trim() || env.HOSTNAME?.trim() || hostname(),
    clusterName: env.CLUSTER_NAME?.trim() || 'null',
  }
  const started = await startReviews({
    ...options,
    logger: log,
    port: readPort(env, 'PORT', 9080),
    host: readHost(env),
  })
  handleShutdownSignals(started, log)
  log.info({ port: started.port, url: started.url, ...options }, 'listening')
} catch (err) {
  logger.fatal({ err }, 'reviews did not start')
  process.exit(1)
}
