import { type Document, isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml'
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
        // The line is the finding's own; keep the column, drop the source excerpt.
        message: (err.message.split('\n')[0] ?? err.message).replace(
          / at line \d+, column (\d+):?$/,
          ' (column $1)',
        ),
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
      const root = doc.getIn(prefix, true)
      const lineOf = (path: FieldPath) => lineOfPath(doc, root, path, lc) ?? docLine
      objects.push({ object: obj as Record<string, unknown>, file, line: lineOf([]), lineOf })
    }
    const v = value as Record<string, unknown>
    if (v.kind === 'List' && Array.isArray(v.items)) {
      for (const [i, item] of v.items.entries()) push(item, ['items', i])
    } else push(value, [])
  }
  return { objects, findings }
}

/**
 * The line of a field path inside a parsed YAML node: the line of the last key of the path that
 * exists in the source (so a missing field points at its parent, and an object-valued field at its
 * key, not at its first child).
 */
function lineOfPath(doc: Document, root: unknown, path: FieldPath, lc: LineCounter): number | undefined {
  const at = (n: unknown) => (isNode(n) && n.range ? lc.linePos(n.range[0]).line : undefined)
  let node = isAlias(root) ? root.resolve(doc) : root
  let line = at(node)
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg))
      if (!pair) break
      line = at(pair.key) ?? line
      node = pair.value
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg]
      if (node === undefined) break
      line = at(node) ?? line
    } else break
    if (isAlias(node)) node = node.resolve(doc)
  }
  return line
}

/** Wraps a plain object (already parsed elsewhere) so it can be validated like a sourced one. */
export function unsourced(object: Record<string, unknown>, file?: string): SourcedObject {
  return { object, file, lineOf: () => undefined }
}
