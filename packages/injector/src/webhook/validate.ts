// /validate: mesh resources (VirtualService, DestinationRule, Gateway, QuotaPolicy) are checked
// with @minimesh/api's schemas; a bad one is denied with every finding's field path.
import { formatFinding, isMeshResource, validateObject } from '@minimesh/api'
import { isRecord } from '../kube.ts'
import { type AdmissionRequest, type AdmissionResponse, allow, deny } from './review.ts'

export function admitMeshResource(req: AdmissionRequest): { response: AdmissionResponse; denied: boolean } {
  if (req.operation !== 'CREATE' && req.operation !== 'UPDATE')
    return { response: allow(req.uid), denied: false }
  const obj = req.object
  if (!isRecord(obj) || !isMeshResource(obj)) return { response: allow(req.uid), denied: false }
  const findings = validateObject(obj)
  const errors = findings.filter((f) => f.severity === 'error')
  const warnings = findings.filter((f) => f.severity === 'warning').map(formatFinding)
  const response = errors.length ? deny(req.uid, errors.map(formatFinding).join('; ')) : allow(req.uid)
  if (warnings.length) response.warnings = warnings
  return { response, denied: errors.length > 0 }
}
