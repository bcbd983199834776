// mesh-init as a user runs it: a real process, its output and its exit code.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseArgs } from './options.ts'
import { buildRules } from './rules.ts'

const mainTs = fileURLToPath(new URL('./main.ts', import.meta.url))

function meshInit(args: string[], options: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}) {
  const result = spawnSync(process.execPath, [mainTs, ...args], { encoding: 'utf8', ...options })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('mesh-init', () => {
  it('--help prints usage with the istio-iptables flags and exits 0', () => {
    const { code, stdout } = meshInit(['--help'])
    expect(code).toBe(0)
    for (const flag of [
      '-p',
      '-z',
      '-u',
      '-g',
      '-m',
      '-b',
      '-d',
      '-i',
      '-x',
      '-o',
      '-q',
      '--dry-run',
      'clean',
    ]) {
      expect(stdout).toContain(flag)
    }
  })

  it('--dry-run prints exactly the rules buildRules makes, changing nothing', () => {
    const flags = ['-b', '9080', '-x', '198.19.0.1/32', '-q', '5432', '--ipv6', 'off']
    const { code, stdout } = meshInit(['--dry-run', ...flags])
    expect(code).toBe(0)
    expect(stdout).toBe(`# iptables-restore --noflush\n${buildRules(parseArgs(flags).options, 4)}`)
  })

  it('--dry-run --ipv6 on prints the ip6tables rules too', () => {
    const { stdout } = meshInit(['-n', '--ipv6', 'on'])
    expect(stdout).toContain('# ip6tables-restore --noflush\n*nat')
    expect(stdout).toContain('-s ::6/128')
  })

  it('a bad flag exits 2 with the reason and the usage', () => {
    const { code, stderr } = meshInit(['-p', 'abc'])
    expect(code).toBe(2)
    expect(stderr).toContain('mesh-init: -p abc: not a port (1–65535) [MESH_ERR_IPTABLES_BAD_FLAG]')
    expect(stderr).toContain('Usage: mesh-init')
    expect(meshInit(['-m', 'TPROXY']).code).toBe(2)
  })

  it('without iptables on PATH says how to install it and exits 1', () => {
    const { code, stderr } = meshInit([], { env: { ...process.env, PATH: '/nonexistent' } })
    expect(code).toBe(1)
    expect(stderr).toContain('apt-get update && apt-get install -y iptables')
    expect(stderr).toContain('MESH_ERR_IPTABLES_MISSING')
  })

  it.skipIf(process.getuid?.() !== 0)(
    'not as root says so and exits 1 (needs root to switch to uid 1337)',
    () => {
      for (const args of [[], ['clean']]) {
        const { code, stderr } = meshInit(args, { uid: 1337, gid: 1337 })
        expect(code).toBe(1)
        expect(stderr).toMatch(/not running as root: mesh-init needs root/)
        expect(stderr).toContain('MESH_ERR_IPTABLES_NOT_ROOT')
      }
    },
  )
})
