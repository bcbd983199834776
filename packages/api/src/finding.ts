/** One problem found in a resource: what, where (file, line, resource, field path) and how bad. */
export interface Finding {
  severity: 'error' | 'warning'
  code: string
  message: string
  /** Field path inside the resource, e.g. `spec.http[0].route[1].weight`. Empty for the whole resource. */
  path: string
  kind?: string
  namespace?: string
  name?: string
  file?: string
  line?: number
}

/** `file:line kind ns/name field.path: message`, the line `meshctl analyze` prints. */
export function formatFinding(f: Finding): string {
  const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''} ` : ''
  const res = f.kind ? `${f.kind} ${f.namespace ?? 'default'}/${f.name ?? '?'} ` : ''
  const sev = f.severity === 'warning' ? 'warning: ' : ''
  return `${where}${res}${f.path || '<resource>'}: ${sev}${f.message} [${f.code}]`
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error')
}
