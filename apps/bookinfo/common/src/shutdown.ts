import type { Logger } from 'pino'

export interface ShutdownOptions {
  /** Exit with 1 if closing has not finished by then; default 20 s (under Kubernetes' 30 s grace period). */
  readonly timeoutMs?: number
  readonly signals?: readonly NodeJS.Signals[]
  /** Default process.exit. */
  readonly exit?: (code: number) => void
}

/**
 * On SIGTERM or SIGINT: log, close the server (in-flight requests finish, no new ones are taken),
 * then exit 0; exit 1 if closing fails or takes too long. A second signal while closing is logged
 * and otherwise ignored. Returns a function that removes the handlers.
 */
export function handleShutdownSignals(
  server: { close(): Promise<unknown> },
  logger: Logger,
  options: ShutdownOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const timeoutMs = options.timeoutMs ?? 20_000
  let closing = false

  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      logger.warn({ signal }, 'already shutting down')
      return
    }
    closing = true
    logger.info({ signal }, 'shutting down')
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown did not finish in time')
      exit(1)
    }, timeoutMs)
    timer.unref()
    server.close().then(
      () => {
        clearTimeout(timer)
        logger.info('shut down')
        exit(0)
      },
      (err: unknown) => {
        clearTimeout(timer)
        logger.error({ err }, 'shutdown failed')
        exit(1)
      },
    )
  }
  for (const signal of signals) process.on(signal, onSignal)
  return () => {
    for (const signal of signals) process.off(signal, onSignal)
  }
}
