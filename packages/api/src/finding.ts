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

/**
 * The line `meshctl analyze` prints: `file:line kind ns/name field.path: message [CODE]`, with
 * `warning: ` before the message of a warning. Parts that are unknown are left out (no file for an
 * object that was not read from one; no path for a finding about the whole resource). A resource
 * without a namespace is shown in `default`, where Kubernetes would put it.
 */
export function formatFinding(f: Finding): string {
  const parts: string[] = []
  if (f.file) parts.push(f.line ? `${f.file}:${f.line}` : f.file)
  if (f.kind) parts.push(`${f.kind} ${f.namespace ?? 'default'}/${f.name ?? '<unnamed>'}`)
  if (f.path) parts.push(f.path)
  const sev = f.severity === 'warning' ? 'warning: ' : ''
  const head = parts.join(' ')
  return `${head ? `${head}: ` : ''}${sev}${f.message} [${f.code}]`
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error')
}
