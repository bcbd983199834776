import { isNode, LineCounter, parseAllDocuments } from 'yaml'
import { ApiErrorCode } from '../errors.ts'
import type { Finding } from '../finding.ts'
import type { FieldPath } from '../schema/index.ts'

/** One object read from a YAML stream, with where it came from. */
export interface SourcedObject {
  object: Record<string, unknown>
  file?: string
  /** 1-based line of the document's first line. */
  line?: number
  /** 1-based line of a field path inside the object, where the YAML source has it. */
  lineOf(path: FieldPath): number | undefined
}

export interface LoadResult {
  objects: SourcedObject[]
  findings: Finding[]
}

/**
 * Parses a multi-document YAML (or JSON) stream with comments, keeping source positions so that
 * a finding can name its line. `kind: List` items are flattened. Parse errors become findings.
 */
export function loadYaml(text: string, file?: string): LoadResult {
  const lc = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter: lc, keepSourceTokens: false, uniqueKeys: true })
  const objects: SourcedObject[] = []
  const findings: Finding[] = []
  const docsArray = Array.isArray(docs) ? docs : [docs]
  for (const doc of docsArray) {
    for (const err of doc.errors) {
      findings.push({
        severity: 'error',
        code: ApiErrorCode.Yaml,
        message: err.message.split('\n')[0] ?? err.message,
        path: '',
        file,
        line: err.linePos?.[0].line,
      })
    }
    if (doc.errors.length) continue
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown
    if (value === null || value === undefined) continue
    const lineAt = (offset: number | undefined) =>
      offset === undefined ? undefined : lc.linePos(offset).line
    const docLine = lineAt(doc.contents?.range?.[0])
    const push = (obj: unknown, prefix: FieldPath) => {
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        findings.push({
          severity: 'error',
          code: ApiErrorCode.Type,
          message: 'a document must be a mapping (an object)',
          path: '',
          file,
          line: docLine,
        })
        return
      }
      const lineOf = (path: FieldPath) => {
        for (let n = path.length; n >= 0; n--) {
          const node = doc.getIn([...prefix, ...path.slice(0, n)], true)
          if (isNode(node) && node.range) return lineAt(node.range[0])
        }
        return docLine
      }
      objects.push({ object: obj as Record<string, unknown>, file, line: lineOf([]), lineOf })
    }
    const v = value as Record<string, unknown>
    if (v.kind === 'List' && Array.isArray(v.items)) {
      for (const [i, item] of v.items.entries()) push(item, ['items', i])
    } else push(value, [])
  }
  return { objects, findings }
}

/** Wraps a plain object (already parsed elsewhere) so it can be validated like a sourced one. */
export function unsourced(object: Record<string, unknown>, file?: string): SourcedObject {
  return { object, file, lineOf: () => undefined }
}
