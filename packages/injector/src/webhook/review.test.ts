import { describe, expect, it } from 'vitest'
import { InjectError } from '../errors.ts'
import { deny, denyError } from './review.ts'

describe('denials', () => {
  it("carry the HTTP status and Kubernetes' reason for it", () => {
    expect(deny('u', 'no', 400).status).toEqual({ code: 400, reason: 'BadRequest', message: 'no' })
    expect(deny('u', 'no', 422).status).toEqual({ code: 422, reason: 'Invalid', message: 'no' })
    expect(deny('u', 'no', 500).status).toEqual({ code: 500, reason: 'InternalError', message: 'no' })
    // A status Kubernetes has no reason for: the code alone (the API server passes it on as it is).
    expect(deny('u', 'no', 418).status).toEqual({ code: 418, message: 'no' })
    expect(deny('u', 'no')).toEqual({
      uid: 'u',
      allowed: false,
      status: expect.objectContaining({ code: 400 }),
    })
  })

  it('of an error: the status declared beside the code when the pod is at fault, else a 500', () => {
    const what = 'minimesh sidecar injection'
    const pod = denyError('u', what, new InjectError('MESH_ERR_INJECT_BAD_ANNOTATION', 'bad port'))
    expect(pod).toEqual({
      uid: 'u',
      allowed: false,
      status: {
        code: 400,
        reason: 'BadRequest',
        message: 'minimesh sidecar injection: bad port [MESH_ERR_INJECT_BAD_ANNOTATION]',
      },
    })
    for (const code of [
      'MESH_ERR_INJECT_INVALID_POD',
      'MESH_ERR_INJECT_CONFLICT',
      'MESH_ERR_INJECT_UNKNOWN_TEMPLATE',
    ] as const) {
      expect(denyError('u', what, new InjectError(code, 'x')).status?.code, code).toBe(400)
    }
    // The injector's own configuration is not the pod's fault.
    const config = denyError(
      'u',
      what,
      new InjectError('MESH_ERR_INJECT_BAD_CONFIG', 'image: must not be empty'),
    )
    expect(config.status).toEqual({
      code: 500,
      reason: 'InternalError',
      message: 'minimesh sidecar injection failed: image: must not be empty [MESH_ERR_INJECT_BAD_CONFIG]',
    })
    const bug = denyError('u', what, new TypeError('x is not iterable'))
    expect(bug.status).toEqual({
      code: 500,
      reason: 'InternalError',
      message: 'minimesh sidecar injection failed: x is not iterable',
    })
  })
})
