import { describe, expect, it } from 'vitest'
import { age, formatObjects } from './format.ts'

describe('meshctl get tables', () => {
  const now = Date.parse('2026-12-03T12:00:00Z')

  it("AGE reads the JSON's string and client-node's Date alike, kubectl's units", () => {
    expect(age('2026-12-03T11:59:15Z', now)).toBe('45s')
    expect(age(new Date('2026-12-03T11:59:15Z'), now)).toBe('45s')
    expect(age(new Date('2026-12-03T11:00:00Z'), now)).toBe('60m')
    expect(age('2026-12-03T06:00:00Z', now)).toBe('6h')
    expect(age('2026-11-29T12:00:00Z', now)).toBe('4d')
  })

  it('AGE is <unknown> when there is no timestamp or it does not parse', () => {
    expect(age(undefined, now)).toBe('<unknown>')
    expect(age('yesterday', now)).toBe('<unknown>')
    expect(age(new Date(Number.NaN), now)).toBe('<unknown>')
  })

  it('a Deployment read through client-node (Date timestamp) shows an age', () => {
    const deployment = {
      kind: 'Deployment',
      metadata: {
        name: 'reviews-v1',
        namespace: 'default',
        creationTimestamp: new Date(Date.now() - 90_000),
      },
      spec: { replicas: 2 },
      status: { readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 },
    }
    const out = formatObjects([deployment], undefined, false)
    expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/)
    expect(out).toMatch(/reviews-v1\s+2\/2\s+2\s+2\s+(89|9\d)s/)
  })
})
