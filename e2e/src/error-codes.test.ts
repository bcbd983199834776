// Every error code is declared once, in a catalogue (a package's errors.ts: `defineCodes({...})`, or
// @minimesh/api's ApiErrorCode `Name: 'MESH_ERR_…'`), and every declared or documented code is thrown (or reported)
// somewhere in source. A static scan over the checkout: a code only declared, only compared
// (`=== 'MESH_ERR_…'`, `case`), only named in a type or a comment does not count as thrown.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

interface SourceFile {
  path: string
  text: string
}

interface Audit {
  /** Declared in a catalogue, thrown nowhere. */
  orphaned: string[]
  /** Named in documentation or used in source, declared in no catalogue. */
  uncatalogued: string[]
  /** Declared in more than one catalogue. */
  duplicated: string[]
}

const CODE = /MESH_ERR_[A-Z0-9_]+/g
const DECLARED = /^\s*(MESH_ERR_[A-Z0-9_]+): \{/
const ALIASED = /^\s*(\w+): '(MESH_ERR_[A-Z0-9_]+)',?$/
const CONST = /^export const (\w+) = /

function isSource(path: string): boolean {
  return path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.includes('/testdata/')
}

function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1')
}

/** A use that throws or reports the code, not a comparison or a member of a type union. */
function throws(line: string, index: number, code: string): boolean {
  const before = line.slice(0, index).replace(/['"`]$/, '')
  const after = line.slice(index + code.length).replace(/^['"`]/, '')
  return !/(===|!==|case|\|)\s*$/.test(before) && !/^\s*\|/.test(after)
}

function auditCodes(files: readonly SourceFile[]): Audit {
  const declaredIn = new Map<string, string[]>()
  const aliases = new Map<string, string>() // `ApiErrorCode.Type` → MESH_ERR_API_TYPE
  const declarationLines = new Set<string>()
  const sources = files.filter((f) => isSource(f.path)).map((f) => ({ ...f, text: withoutComments(f.text) }))
  for (const f of sources) {
    if (!f.path.endsWith('/errors.ts')) continue
    let owner = ''
    f.text.split('\n').forEach((line, i) => {
      owner = CONST.exec(line)?.[1] ?? owner
      const declared = DECLARED.exec(line)?.[1]
      const aliased = ALIASED.exec(line)
      const code = declared ?? aliased?.[2]
      if (!code) return
      declaredIn.set(code, [...(declaredIn.get(code) ?? []), f.path])
      declarationLines.add(`${f.path}:${i}`)
      if (aliased) aliases.set(`${owner}.${aliased[1]}`, code)
    })
  }
  const thrown = new Set<string>()
  const used = new Set<string>()
  for (const f of sources)
    f.text.split('\n').forEach((line, i) => {
      if (declarationLines.has(`${f.path}:${i}`)) return
      for (const m of line.matchAll(CODE)) {
        if (m[0].endsWith('_')) continue // a prefix (`MESH_ERR_${string}`), not a code
        used.add(m[0])
        if (throws(line, m.index, m[0])) thrown.add(m[0])
      }
      for (const m of line.matchAll(/\b(\w+\.\w+)\b/g)) {
        const code = aliases.get(m[1]!)
        if (code) thrown.add(code)
      }
    })
  const documented = files
    .filter((f) => f.path.endsWith('.md'))
    .flatMap((f) => [...f.text.matchAll(CODE)].map((m) => m[0]))
    .filter((code) => !code.endsWith('_')) // `MESH_ERR_API_…` names a family
  const sorted = (it: Iterable<string>) => [...new Set(it)].sort()
  return {
    orphaned: sorted([...declaredIn.keys()].filter((c) => !thrown.has(c))),
    uncatalogued: sorted([...documented, ...used].filter((c) => !declaredIn.has(c))),
    duplicated: sorted([...declaredIn].filter(([, where]) => where.length > 1).map(([c]) => c)),
  }
}

function checkout(): SourceFile[] {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const listed = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--', '*.ts', '*.md'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
  return listed
    .split('\n')
    .filter((p) => p && !p.includes('node_modules/') && !p.startsWith('.tools/'))
    .flatMap((path) => {
      try {
        return [{ path, text: readFileSync(root + path, 'utf8') }]
      } catch {
        return [] // deleted in the working tree, not yet in the index
      }
    })
}

describe('error codes', () => {
  it('the audit finds orphaned, uncatalogued and duplicated codes', () => {
    const audit = auditCodes([
      {
        path: 'packages/a/src/errors.ts',
        text: 'export const A = defineCodes({\n  MESH_ERR_A_USED: {},\n  MESH_ERR_A_COMPARED: {},\n  MESH_ERR_A_TWICE: {},\n})\n',
      },
      { path: 'packages/b/src/errors.ts', text: 'const B = defineCodes({\n  MESH_ERR_A_TWICE: {},\n})\n' },
      {
        path: 'packages/api/src/errors.ts',
        text: "export const ApiErrorCode = {\n  Used: 'MESH_ERR_API_USED',\n  Unused: 'MESH_ERR_API_UNUSED',\n} as const\n",
      },
      {
        path: 'packages/a/src/a.ts', // a declaration outside errors.ts is no catalogue

        text: [
          "throw new AError('MESH_ERR_A_USED', 'x')",
          "if (e.code === 'MESH_ERR_A_COMPARED') return",
          "type T = 'MESH_ERR_A_TWICE' | 'MESH_ERR_A_COMPARED'",
          '// throws MESH_ERR_A_TWICE one day',
          'report(ApiErrorCode.Used)',
          "throw new AError('MESH_ERR_A_STRAY', 'x')",
          'const C = defineCodes({',
          '  MESH_ERR_A_ELSEWHERE: {},',
          '})',
        ].join('\n'),
      },
      { path: 'packages/a/src/a.test.ts', text: "expect(code).toBe('MESH_ERR_A_TWICE')" },
      { path: 'packages/a/README.md', text: 'fails with `MESH_ERR_A_GONE`; codes are `MESH_ERR_A_…`' },
    ])
    expect(audit).toEqual({
      orphaned: ['MESH_ERR_API_UNUSED', 'MESH_ERR_A_COMPARED', 'MESH_ERR_A_TWICE'],
      uncatalogued: ['MESH_ERR_A_ELSEWHERE', 'MESH_ERR_A_GONE', 'MESH_ERR_A_STRAY'],
      duplicated: ['MESH_ERR_A_TWICE'],
    })
  })

  it('every code in the checkout is declared once and thrown somewhere', () => {
    const files = checkout()
    expect(files.filter((f) => f.path.endsWith('/errors.ts')).length).toBeGreaterThan(5)
    expect(auditCodes(files)).toEqual({ orphaned: [], uncatalogued: [], duplicated: [] })
  })
})
