import { describe, expect, it } from 'vitest'
import { DEFAULT_OPTIONS, parseArgs, parseCidr } from './options.ts'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('parseArgs', () => {
  it('defaults to capturing everything for the proxy at 15001/15006 with uid and gid 1337', () => {
    const args = parseArgs([])
    expect(args).toEqual({
      command: 'apply',
      dryRun: false,
      ipv6: 'auto',
      backend: 'auto',
      options: DEFAULT_OPTIONS,
    })
    expect(DEFAULT_OPTIONS).toMatchObject({
      proxyPort: 15001,
      inboundCapturePort: 15006,
      proxyUids: [1337],
      proxyGids: [1337],
      mode: 'REDIRECT',
      inboundPorts: '*',
      outboundCidrs: '*',
    })
  })

  it('reads istio-iptables short flags', () => {
    const { options } = parseArgs([
      '-p',
      '16001',
      '-z',
      '16006',
      '-u',
      '1337,1338',
      '-g',
      '1400',
      '-m',
      'REDIRECT',
      '-b',
      '9080, 9443',
      '-d',
      '22',
      '-i',
      '198.19.0.0/16,fd00::/8',
      '-x',
      '169.254.169.254',
      '-o',
      '3306,3306',
      '-q',
      '5432',
    ])
    expect(options).toEqual({
      proxyPort: 16001,
      inboundCapturePort: 16006,
      proxyUids: [1337, 1338],
      proxyGids: [1400],
      mode: 'REDIRECT',
      inboundPorts: [9080, 9443],
      inboundPortsExclude: [22],
      outboundCidrs: ['198.19.0.0/16', 'fd00::/8'],
      outboundCidrsExclude: ['169.254.169.254/32'],
      outboundPortsExclude: [3306],
      outboundPortsInclude: [5432],
    })
  })

  it("takes '' as none and '*' as all", () => {
    const { options } = parseArgs(['-b', '', '-i', '', '-x', ''])
    expect(options.inboundPorts).toEqual([])
    expect(options.outboundCidrs).toEqual([])
    expect(options.outboundCidrsExclude).toEqual([])
    expect(parseArgs(['-b', '*', '-i', '*']).options).toMatchObject({ inboundPorts: '*', outboundCidrs: '*' })
  })

  it('knows the commands, --dry-run/-n, --help/-h, --ipv6 and --backend', () => {
    expect(parseArgs(['clean']).command).toBe('clean')
    expect(parseArgs(['--dry-run']).dryRun).toBe(true)
    expect(parseArgs(['-n', 'clean'])).toMatchObject({ command: 'clean', dryRun: true })
    expect(parseArgs(['-h']).command).toBe('help')
    expect(parseArgs(['--ipv6', 'off', '--backend', 'legacy'])).toMatchObject({
      ipv6: 'off',
      backend: 'legacy',
    })
  })

  it('rejects what it cannot do with a stable code', () => {
    expect(codeOf(() => parseArgs(['-p', '0']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-z', '70000']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-b', '80,http']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-i', '10.0.0.0/33']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-x', '*']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-u', '']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-k']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['install']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['--ipv6', 'maybe']))).toBe('MESH_ERR_IPTABLES_BAD_FLAG')
    expect(codeOf(() => parseArgs(['-m', 'TPROXY']))).toBe('MESH_ERR_IPTABLES_UNSUPPORTED')
  })
})

describe('parseCidr', () => {
  it('keeps CIDRs and widens bare addresses to one host', () => {
    expect(parseCidr('-i', '198.19.0.0/16')).toBe('198.19.0.0/16')
    expect(parseCidr('-i', '198.19.0.7')).toBe('198.19.0.7/32')
    expect(parseCidr('-i', 'fd00::7')).toBe('fd00::7/128')
    expect(parseCidr('-i', '2001:db8::/032')).toBe('2001:db8::/32')
    expect(() => parseCidr('-i', 'example.com/8')).toThrow(/not an IP address/)
    expect(() => parseCidr('-i', '10.0.0.0/8/8')).toThrow(/not an IP address/)
  })
})
