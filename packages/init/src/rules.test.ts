import { expectGolden, expectNoStaleGoldens } from '@minimesh/api/testing'
import { describe, expect, it } from 'vitest'
import { parseArgs } from './options.ts'
import { buildRules, type IpFamily, OWNED_COMMENTS } from './rules.ts'

const goldenDir = new URL('./testdata/golden/', import.meta.url)

/** name → mesh-init flags; each gives <name>.v4.rules and <name>.v6.rules. */
const CASES: Record<string, string[]> = {
  defaults: [],
  'istio-injector-defaults': [
    '-p',
    '15001',
    '-z',
    '15006',
    '-u',
    '1337',
    '-m',
    'REDIRECT',
    '-i',
    '*',
    '-x',
    '',
    '-b',
    '*',
    '-d',
    '15090,15021,15020',
  ],
  'inbound-ports-list': ['-b', '9080,9443', '-d', '9443'],
  'inbound-none': ['-b', ''],
  'inbound-exclude': ['-d', '22,8081'],
  'outbound-cidrs': ['-i', '198.19.0.0/16,fd00:10::/64'],
  'outbound-none': ['-i', ''],
  'outbound-exclude-cidrs': ['-x', '198.19.0.1/32,169.254.169.254,fd00::1'],
  'outbound-ports': ['-o', '3306,6379', '-q', '5432'],
  'outbound-ports-with-cidrs': ['-i', '198.19.0.0/16', '-q', '5432', '-o', '53'],
  'loopback-included': ['-i', '127.0.0.1/32,198.19.0.0/16'],
  'custom-ports-and-owners': ['-p', '16001', '-z', '16006', '-u', '1337,1338', '-g', '1400'],
}

function goldenName(name: string, family: IpFamily): string {
  return `${name}.v${family}.rules`
}

function render(flags: string[], family: IpFamily): string {
  const shown = flags.map((f) => (f === '' || f.includes('*') ? `'${f}'` : f)).join(' ')
  const command = shown === '' ? 'mesh-init' : `mesh-init ${shown}`
  return `# ${command} (IPv${family})\n${buildRules(parseArgs(flags).options, family)}`
}

describe('buildRules golden files (UPDATE_GOLDEN=1 regenerates)', () => {
  for (const [name, flags] of Object.entries(CASES)) {
    for (const family of [4, 6] as const) {
      const file = goldenName(name, family)
      it(`${file}: mesh-init ${flags.join(' ')}`, () => {
        expectGolden(new URL(file, goldenDir), render(flags, family))
      })
    }
  }

  it('has no golden file without a case', () => {
    expectNoStaleGoldens(goldenDir, ['.rules'])
  })
})

describe('buildRules', () => {
  const defaults = parseArgs([]).options

  it('tags every rule with a minimesh/<purpose> comment that clean recognises', () => {
    for (const flags of Object.values(CASES)) {
      for (const family of [4, 6] as const) {
        const rules = buildRules(parseArgs(flags).options, family)
          .split('\n')
          .filter((l) => l.startsWith('-A '))
        expect(rules.length).toBeGreaterThan(5)
        for (const rule of rules) {
          const comment = /--comment "([^"]+)"/.exec(rule)?.[1]
          expect(comment && OWNED_COMMENTS.has(comment), rule).toBe(true)
        }
      }
    }
  })

  it('is one nat-table transaction declaring the four MESH_ chains', () => {
    const text = buildRules(defaults)
    const lines = text.trimEnd().split('\n')
    expect(lines[0]).toBe('*nat')
    expect(lines.at(-1)).toBe('COMMIT')
    expect(lines.filter((l) => l.startsWith(':'))).toEqual([
      ':MESH_INBOUND - [0:0]',
      ':MESH_IN_REDIRECT - [0:0]',
      ':MESH_OUTPUT - [0:0]',
      ':MESH_REDIRECT - [0:0]',
    ])
  })

  it('orders the owner rules as Istio does: passthrough, self-call to inbound, app loopback, proxy', () => {
    const out = buildRules(defaults)
      .split('\n')
      .filter((l) => l.startsWith('-A MESH_OUTPUT'))
      .map((l) => /minimesh\/([\w-]+)/.exec(l)?.[1])
    expect(out).toEqual([
      'inbound-passthrough',
      'proxy-to-own-pod-uid',
      'app-loopback-uid',
      'proxy-uid',
      'proxy-to-own-pod-gid',
      'app-loopback-gid',
      'proxy-gid',
      'localhost',
      'outbound-capture-all',
    ])
  })

  it('puts each CIDR only in its own family', () => {
    const options = parseArgs(['-i', '198.19.0.0/16,fd00::/8', '-x', '198.19.9.9/32,fd00::9/128']).options
    const v4 = buildRules(options, 4)
    const v6 = buildRules(options, 6)
    expect(v4).toContain('-d 198.19.0.0/16')
    expect(v4).not.toContain('fd00')
    expect(v6).toContain('-d fd00::/8')
    expect(v6).toContain('-d fd00::9/128')
    expect(v6).not.toContain('198.19.')
    expect(v6).toContain('-s ::6/128 -o lo')
  })
})
