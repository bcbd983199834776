import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { expectGolden, expectNoStaleGoldens, jsonDiff, unifiedDiff } from './golden.ts'

describe('unifiedDiff', () => {
  it('hunks with three lines of context, counted as git counts them', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`)
    const b = [...a]
    b[2] = 'line three'
    b.splice(15, 1)
    expect(unifiedDiff(`${a.join('\n')}\n`, `${b.join('\n')}\n`)).toBe(
      [
        '--- expected (golden file)',
        '+++ actual',
        '@@ -1,6 +1,6 @@',
        ' line 1',
        ' line 2',
        '-line 3',
        '+line three',
        ' line 4',
        ' line 5',
        ' line 6',
        '@@ -13,7 +13,6 @@',
        ' line 13',
        ' line 14',
        ' line 15',
        '-line 16',
        ' line 17',
        ' line 18',
        ' line 19',
        '',
      ].join('\n'),
    )
  })

  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('')
  })
})

describe('jsonDiff', () => {
  const base = {
    clusters: [
      { name: 'a', timeoutMs: 1000 },
      { name: 'b', timeoutMs: 1000 },
    ],
    domains: ['x', 'y'],
    keep: true,
  }

  it('names list elements, shows each change once with its path', () => {
    const actual = {
      clusters: [
        { name: 'a', timeoutMs: 2000 },
        { name: 'c', timeoutMs: 1000 },
      ],
      domains: ['x', 'z'],
      extra: 1,
    }
    expect(jsonDiff(base, actual)).toBe(
      [
        '- .clusters[name=b]',
        '~ .clusters[name=a].timeoutMs 1000 → 2000',
        '+ .clusters[name=c] (at 1) {',
        '    "name": "c",',
        '    "timeoutMs": 1000',
        '  }',
        '- .domains[1] "y"',
        '+ .domains[1] "z"',
        '- .keep',
        '+ .extra 1',
        '',
      ].join('\n'),
    )
  })

  it('sees a reordering of named elements (route order matters)', () => {
    const actual = { ...base, clusters: [base.clusters[1], base.clusters[0]] }
    expect(jsonDiff(base, actual)).toBe('order .clusters ["b","a"]\n')
  })

  it('is empty for equal values', () => {
    expect(jsonDiff(base, structuredClone(base))).toBe('')
  })
})

describe('expectGolden', () => {
  const dir = mkdtempSync(join(tmpdir(), 'golden-'))
  afterEach(() => {
    delete process.env.UPDATE_GOLDEN
  })

  it('fails on a missing golden, saying how to make it', () => {
    expect(() => expectGolden(join(dir, 'missing.txt'), 'x')).toThrow(/missing: run with UPDATE_GOLDEN=1/)
  })

  it('fails on a stale golden with a unified diff; UPDATE_GOLDEN=1 rewrites it', () => {
    const file = join(dir, 'a.txt')
    writeFileSync(file, 'one\ntwo\n')
    expectGolden(file, 'one\ntwo\n')
    expect(() => expectGolden(file, 'one\n2\n')).toThrow(
      /stale: run with UPDATE_GOLDEN=1[\s\S]*@@ -1,2 \+1,2 @@\n one\n-two\n\+2\n/,
    )
    process.env.UPDATE_GOLDEN = '1'
    expectGolden(file, 'one\n2\n')
    expect(readFileSync(file, 'utf8')).toBe('one\n2\n')
  })

  it('finds golden files no test produced; UPDATE_GOLDEN=1 removes them', () => {
    writeFileSync(join(dir, 'old.txt'), 'x')
    writeFileSync(join(dir, 'other.json'), 'x')
    expect(() => expectNoStaleGoldens(dir, ['.txt'])).toThrow(/old\.txt/)
    process.env.UPDATE_GOLDEN = '1'
    expectNoStaleGoldens(dir, ['.txt'])
    expect(existsSync(join(dir, 'old.txt'))).toBe(false)
    expect(existsSync(join(dir, 'other.json'))).toBe(true)
    rmSync(dir, { recursive: true })
  })
})
