// The stage runner. A request goes through an ordered list of stages; each stage reads and fills
// the request's state and returns undefined (go on), a LocalReply (stop: the proxy answers), or
// a promise of either (the rest waits for it). Sync stages cost a call each, no promise, no
// closure; only a stage that really waits (a policy service, a fault delay, a body being read)
// makes one. A stage that throws or rejects ends the request through `failRequest`.
// (The shape of fastify's hook runner, as a plain loop over linkerd-style ordered layers.)
import { failRequest, type LocalReply, sendLocalReply } from './local-reply.ts'
import type { RequestState } from './state.ts'

export type StageResult = LocalReply | undefined

export type Stage = (s: RequestState) => StageResult | Promise<StageResult>

/** Runs `stages` from index `from` until one answers, one waits, or the last has run. */
export function runStages(s: RequestState, stages: readonly Stage[], from = 0): void {
  for (let i = from; i < stages.length; i++) {
    let r: StageResult | Promise<StageResult>
    try {
      r = stages[i]!(s)
    } catch (err) {
      failRequest(s, err)
      return
    }
    if (r === undefined) continue
    if (r instanceof Promise) {
      const next = i + 1
      r.then(
        (v) => resume(s, stages, next, v),
        (err: unknown) => failRequest(s, err),
      )
      return
    }
    sendLocalReply(s, r)
    return
  }
}

function resume(s: RequestState, stages: readonly Stage[], next: number, v: StageResult): void {
  // The client left while the stage waited: nothing more to do (its 'close' recorded the request).
  if (s.gone()) return
  // Inside a promise callback a throw would be an unhandled rejection: it ends the request instead.
  try {
    if (v !== undefined) sendLocalReply(s, v)
    else runStages(s, stages, next)
  } catch (err) {
    failRequest(s, err)
  }
}
