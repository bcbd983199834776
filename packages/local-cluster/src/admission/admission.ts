// The admission chain of an API request: mutating webhooks in order (each JSONPatch applied to the
// object the next one sees), then validating webhooks. A denial or a failing webhook with
// failurePolicy Fail rejects the request with the API server's wording.

import type { KubeObject, NewObject } from '@minimesh/api/kube'
import fastJsonPatch from 'fast-json-patch'
import type { Logger } from 'pino'
import { LocalClusterError } from '../errors.ts'
import { type AdmissionResponse, callWebhook, type ServiceResolver } from './client.ts'
import {
  type AdmissionAttributes,
  admissionReview,
  matchingWebhooks,
  type Webhook,
  type WebhookConfiguration,
} from './webhooks.ts'

export interface AdmissionOptions {
  mutating: () => readonly WebhookConfiguration[]
  validating: () => readonly WebhookConfiguration[]
  resolve: ServiceResolver
  log: Logger
}

export interface AdmissionResult {
  /** The object after every mutation (undefined for DELETE). */
  object?: NewObject
  /** Webhooks that mutated it, in order. */
  mutatedBy: string[]
  warnings: string[]
}

export class Admission {
  readonly #o: AdmissionOptions

  constructor(options: AdmissionOptions) {
    this.#o = options
  }

  async #call(w: Webhook, a: AdmissionAttributes): Promise<AdmissionResponse | undefined> {
    const review = admissionReview(a)
    const uid = (review.request as { uid: string }).uid
    try {
      const res = await callWebhook(w.clientConfig, review, {
        resolve: this.#o.resolve,
        timeoutMs: (w.timeoutSeconds ?? 10) * 1000,
      })
      if (res.uid !== uid)
        throw new LocalClusterError('MESH_ERR_LOCAL_WEBHOOK', `response uid ${res.uid} ≠ request uid ${uid}`)
      return res
    } catch (err) {
      const message = `failed calling webhook "${w.name}": ${(err as Error).message}`
      if (w.failurePolicy === 'Ignore') {
        this.#o.log.warn({ webhook: w.name, err }, `${message} (failurePolicy Ignore)`)
        return undefined
      }
      throw new LocalClusterError('MESH_ERR_LOCAL_WEBHOOK', `Internal error occurred: ${message}`, {
        cause: err,
      })
    }
  }

  /**
   * A denial, answered with the webhook's own status code as the API server answers it (a code
   * under 400, or none, becomes 403 Forbidden; HTTP has none from 600 on, so those do too).
   */
  #denied(w: Webhook, res: AdmissionResponse): LocalClusterError {
    const why = res.status?.message ?? res.status?.reason ?? 'no reason given'
    const code = res.status?.code
    return new LocalClusterError(
      'MESH_ERR_LOCAL_ADMISSION_DENIED',
      `admission webhook "${w.name}" denied the request: ${why}`,
      { status: code !== undefined && code >= 400 && code < 600 ? code : 403 },
    )
  }

  /** Runs the chain; throws MESH_ERR_LOCAL_ADMISSION_DENIED or MESH_ERR_LOCAL_WEBHOOK, changing nothing. */
  async admit(attrs: AdmissionAttributes): Promise<AdmissionResult> {
    const a: AdmissionAttributes = {
      ...attrs,
      object: attrs.object ? structuredClone(attrs.object) : undefined,
    }
    const result: AdmissionResult = { mutatedBy: [], warnings: [] }
    if (a.operation !== 'DELETE') {
      for (const { webhook } of matchingWebhooks(this.#o.mutating(), a)) {
        const res = await this.#call(webhook, a)
        if (!res) continue
        result.warnings.push(...(res.warnings ?? []))
        if (!res.allowed) throw this.#denied(webhook, res)
        if (res.patch) {
          if (res.patchType !== undefined && res.patchType !== 'JSONPatch') {
            throw new LocalClusterError(
              'MESH_ERR_LOCAL_WEBHOOK',
              `webhook "${webhook.name}": unsupported patchType ${res.patchType}`,
            )
          }
          let ops: fastJsonPatch.Operation[]
          try {
            ops = JSON.parse(Buffer.from(res.patch, 'base64').toString('utf8')) as fastJsonPatch.Operation[]
            a.object = fastJsonPatch.applyPatch(a.object, ops, true, false).newDocument as KubeObject
          } catch (err) {
            throw new LocalClusterError(
              'MESH_ERR_LOCAL_WEBHOOK',
              `webhook "${webhook.name}" returned a JSONPatch that does not apply: ${(err as Error).message}`,
              { cause: err },
            )
          }
          if (ops.length > 0) result.mutatedBy.push(webhook.name)
        }
      }
    }
    const validating = matchingWebhooks(this.#o.validating(), a)
    const answers = await Promise.all(
      validating.map(async ({ webhook }) => ({ webhook, res: await this.#call(webhook, a) })),
    )
    for (const { webhook, res } of answers) {
      if (!res) continue
      result.warnings.push(...(res.warnings ?? []))
      if (!res.allowed) throw this.#denied(webhook, res)
    }
    result.object = a.object
    return result
  }
}
