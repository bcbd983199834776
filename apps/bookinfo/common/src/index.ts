export {
  DEFAULT_PORT,
  type Env,
  parseDurationMs,
  parseProductId,
  readBoolean,
  readDurationMs,
  readHost,
  readLogLevel,
  readPort,
  upstreamUrl,
} from './config.ts'
export { BookinfoError, type BookinfoErrorCode } from './errors.ts'
export { END_USER_HEADER, PROPAGATED_HEADERS, pickHeaders } from './headers.ts'
export { createLogger, type LoggerOptions, silentLogger } from './logger.ts'
export { createApp, type ListenOptions, listenApp, type StartedApp } from './server.ts'
export { handleShutdownSignals, type ShutdownOptions } from './shutdown.ts'
export { createUpstreamAgent, fetchJson, type UpstreamRequest, type UpstreamResult } from './upstream.ts'
