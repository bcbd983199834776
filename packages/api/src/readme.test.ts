import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { expectGolden } from './testing/golden.ts'
import { unimplementedFields } from './unimplemented.ts'

const README = new URL('../README.md', import.meta.url)
const START = '<!-- unimplemented:start -->\n'
const END = '<!-- unimplemented:end -->'

/** The README's list of unimplemented fields, grouped by kind; subset traffic policies folded in. */
function render(): string {
  const byKind = new Map<string, string[]>()
  for (const f of unimplementedFields()) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.path])
  const blocks: string[] = []
  for (const [kind, paths] of byKind) {
    const top = new Set(paths)
    // A subset's traffic policy and a port's settings have the top-level policy's fields.
    const folded = paths.filter((p) => {
      const m = /^spec\.(?:subsets\[\]\.)?trafficPolicy\.(?:portLevelSettings\[\]\.)?(.*)$/.exec(p)
      return !(m && p !== `spec.trafficPolicy.${m[1]}` && top.has(`spec.trafficPolicy.${m[1]}`))
    })
    const note =
      folded.length < paths.length
        ? ' (each `spec.trafficPolicy` field also inside `spec.subsets[].trafficPolicy` and in `portLevelSettings[]`)'
        : ''
    blocks.push(
      `**${kind}**${note}\n\n${[...folded]
        .sort()
        .map((p) => `- \`${p}\``)
        .join('\n')}\n`,
    )
  }
  return blocks.join('\n')
}

describe('README', () => {
  it('lists exactly the Istio fields minimesh does not implement', () => {
    const text = readFileSync(README, 'utf8')
    const a = text.indexOf(START)
    const b = text.indexOf(END)
    expect(a, 'README.md needs the unimplemented:start/end markers').toBeGreaterThan(0)
    // The README is the golden file: the same text with the section as render() makes it.
    expectGolden(README, text.slice(0, a + START.length) + render() + text.slice(b))
  })

  it('names every finding code that analysis can produce', () => {
    const text = readFileSync(README, 'utf8')
    for (const code of [
      'MESH_ERR_API_UNKNOWN_SUBSET',
      'MESH_ERR_API_UNKNOWN_HOST',
      'MESH_ERR_API_CONFLICTING_VIRTUAL_SERVICES',
      'MESH_ERR_API_UNKNOWN_GATEWAY',
      'MESH_ERR_API_UNKNOWN_SECRET',
      'MESH_ERR_API_UNREACHABLE_OVERRIDE',
      'MESH_ERR_API_QUOTA_HOST_NAMESPACE',
      'MESH_ERR_API_DUPLICATE',
    ])
      expect(text).toContain(code)
  })
})
