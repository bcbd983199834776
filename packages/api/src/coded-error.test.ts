import { describe, expect, it } from 'vitest'
import { defineCodes, MeshError, statusOf } from './coded-error.ts'

const CODES = defineCodes({
  MESH_ERR_TEST_NOT_FOUND: { status: 404 },
  MESH_ERR_TEST_BROKEN: {},
})

class TestError extends MeshError<keyof typeof CODES> {
  static override readonly codes = CODES
}
class OtherError extends MeshError<'MESH_ERR_TEST_OTHER'> {}

describe('MeshError', () => {
  it('carries the code, the cause, its class name and the status declared beside the code', () => {
    const cause = new Error('underneath')
    const err = new TestError('MESH_ERR_TEST_NOT_FOUND', 'no such thing', { cause })
    expect(err).toMatchObject({ name: 'TestError', code: 'MESH_ERR_TEST_NOT_FOUND', status: 404, cause })
    expect(err.message).toBe('no such thing')
    expect(new TestError('MESH_ERR_TEST_BROKEN', 'x').status).toBeUndefined()
    // A status the thrower passes on replaces the declared one.
    expect(new TestError('MESH_ERR_TEST_NOT_FOUND', 'x', { status: 409 }).status).toBe(409)
    expect(statusOf(new TestError('MESH_ERR_TEST_BROKEN', 'x', { status: 422 }))).toBe(422)
  })

  it('statusOf: the declared status, else the fallback (also for errors that are not MeshErrors)', () => {
    expect(statusOf(new TestError('MESH_ERR_TEST_NOT_FOUND', 'x'))).toBe(404)
    expect(statusOf(new TestError('MESH_ERR_TEST_BROKEN', 'x'))).toBe(500)
    expect(statusOf(new Error('x'), 502)).toBe(502)
    expect(statusOf(undefined)).toBe(500)
  })

  it('instanceof: the base matches by brand (another copy of the module too), a subclass by prototype', () => {
    const err = new TestError('MESH_ERR_TEST_BROKEN', 'x')
    expect(err).toBeInstanceOf(MeshError)
    expect(err).toBeInstanceOf(TestError)
    expect(err).not.toBeInstanceOf(OtherError)
    const copy = { [Symbol.for('minimesh.error')]: true }
    expect(copy instanceof MeshError).toBe(true)
    expect(copy instanceof TestError).toBe(false)
    expect(new Error('x') instanceof MeshError).toBe(false)
    expect((null as unknown as object) instanceof MeshError).toBe(false)
  })

  it('defineCodes refuses a malformed code or a status that is not an HTTP error status', () => {
    expect(() => defineCodes({ MESH_ERR_lower: {} })).toThrow(/not MESH_ERR_<AREA>_<WHAT>/)
    expect(() => defineCodes({ MESH_ERR_TEST_OK: { status: 200 } })).toThrow(
      /status 200 is not an HTTP error status/,
    )
    expect(Object.isFrozen(CODES)).toBe(true)
  })
})
