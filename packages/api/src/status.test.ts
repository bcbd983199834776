import { describe, expect, it } from 'vitest'
import {
  outcomeText,
  type ResourceOutcome,
  readStatus,
  resourceStatus,
  statusFingerprint,
  withTransitionTime,
} from './status.ts'

const subsetError = {
  severity: 'error' as const,
  code: 'MESH_ERR_API_UNKNOWN_SUBSET',
  path: 'spec.http[0].route[0].destination.subset',
  message: 'subset "v9" is not defined by DestinationRule default/reviews, which defines v1, v2, v3',
}
const rejected: ResourceOutcome = {
  state: 'rejected',
  generation: 4,
  servingPrevious: true,
  serving: { generation: 3 },
  findings: [subsetError, { severity: 'warning', code: 'X_OTHER', path: '', message: 'a warning' }],
}

describe('resource status', () => {
  it('a rejected version: why (field path first), which generation serves, Istio-shaped validationMessages', () => {
    expect(outcomeText(rejected)).toBe(
      'Rejected: spec.http[0].route[0].destination.subset: subset "v9" is not defined by DestinationRule default/reviews, which defines v1, v2, v3; serving generation 3',
    )
    expect(resourceStatus(rejected)).toEqual({
      observedGeneration: 4,
      conditions: [
        {
          type: 'Reconciled',
          status: 'False',
          reason: 'RejectedServingPrevious',
          message: outcomeText(rejected),
          observedGeneration: 4,
        },
      ],
      validationMessages: [
        {
          type: { code: 'MESH_ERR_API_UNKNOWN_SUBSET', name: 'UnknownSubset' },
          level: 'ERROR',
          message: `${subsetError.path}: ${subsetError.message}`,
        },
        { type: { code: 'X_OTHER' }, level: 'WARNING', message: 'a warning' },
      ],
      servingGeneration: 3,
    })
    const none = resourceStatus({ ...rejected, servingPrevious: false, serving: undefined })
    expect(none.conditions[0]!.reason).toBe('Rejected')
    expect(none.conditions[0]!.message).toMatch(/; not served$/)
    expect(none.servingGeneration).toBeUndefined()
  })

  it('an accepted one: Reconciled True, no messages', () => {
    expect(resourceStatus({ state: 'accepted', generation: 2, findings: [] })).toEqual({
      observedGeneration: 2,
      conditions: [
        {
          type: 'Reconciled',
          status: 'True',
          reason: 'Accepted',
          message: 'Accepted (generation 2)',
          observedGeneration: 2,
        },
      ],
    })
    expect(outcomeText({ state: 'accepted', resourceVersion: '17', findings: [] })).toBe(
      'Accepted (resourceVersion 17)',
    )
  })

  it('transition time: kept while the condition status stays, new when it flips; fingerprints ignore it', () => {
    const accepted = resourceStatus({ state: 'accepted', generation: 2, findings: [] })
    const first = withTransitionTime(accepted, undefined, '2026-01-01T00:00:00.000Z')
    expect(first.conditions[0]!.lastTransitionTime).toBe('2026-01-01T00:00:00.000Z')
    const again = withTransitionTime(
      resourceStatus({ state: 'accepted', generation: 3, findings: [] }),
      first,
      '2026-01-02T00:00:00.000Z',
    )
    expect(again.conditions[0]!.lastTransitionTime).toBe('2026-01-01T00:00:00.000Z')
    const flipped = withTransitionTime(resourceStatus(rejected), again, '2026-01-03T00:00:00.000Z')
    expect(flipped.conditions[0]!.lastTransitionTime).toBe('2026-01-03T00:00:00.000Z')
    expect(statusFingerprint(first)).toBe(statusFingerprint(accepted))
    // Key order does not matter (the API server returns its own); content does.
    expect(statusFingerprint({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(
      statusFingerprint({ a: [{ x: 1, y: 2 }], b: 1 }),
    )
    expect(statusFingerprint(first)).not.toBe(statusFingerprint(again))
  })

  it('read back: current, behind the object generation (Pending), or absent (Unknown)', () => {
    const st = resourceStatus(rejected)
    expect(readStatus(st, 4)).toEqual({ state: 'Rejected', text: outcomeText(rejected) })
    expect(readStatus(st, 5)).toEqual({
      state: 'Pending',
      text: `Pending: meshd has not reported on generation 5 yet (generation 4: ${outcomeText(rejected)})`,
    })
    expect(readStatus(resourceStatus({ state: 'accepted', generation: 1, findings: [] }), 1).state).toBe(
      'Accepted',
    )
    expect(readStatus(undefined, 1).state).toBe('Unknown')
    expect(readStatus({}, 1).text).toMatch(/^Unknown: no status yet/)
  })
})
