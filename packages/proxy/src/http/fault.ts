// Fault injection (Istio HTTPFaultInjection): a fixed delay and/or an abort, each applied to a
// percentage of requests. The delay happens before the route timeout starts and an aborted
// request is never retried: faults are not wrapped in timeouts or retries.
import type { Route } from '@minimesh/api'

export interface FaultDecision {
  delayMs: number
  abortStatus: number
}

const NONE: FaultDecision = { delayMs: 0, abortStatus: 0 }

/** Draws this request's faults. `random` returns [0, 1). */
export function decideFault(fault: Route['fault'], random: () => number = Math.random): FaultDecision {
  if (!fault) return NONE
  const delay = fault.delay && fault.delay.fixedDelayMs > 0 && random() * 100 < fault.delay.percent
  const abort = fault.abort && random() * 100 < fault.abort.percent
  if (!delay && !abort) return NONE
  return { delayMs: delay ? fault.delay!.fixedDelayMs : 0, abortStatus: abort ? fault.abort!.httpStatus : 0 }
}
