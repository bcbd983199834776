import { describe, expect, it } from 'vitest'
import { cidrValue, DEFAULT_OPTIONS, parseArgs } from './options.ts'

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

describe('flag errors', () => {
  it.each([
    [['-p', 'abc'], '-p abc: not a port (1–65535)'],
    [['--proxy-port', '0'], '--proxy-port 0: not a port (1–65535)'],
    [['-z', '70000'], '-z 70000: not a port (1–65535)'],
    [['-u', '1337,root'], '-u 1337,root: root: not a uid/gid (0–4294967294)'],
    [['-g', ''], '-g "": needs at least one value'],
    [['-b', '80,http'], '-b 80,http: http: not a port (1–65535)'],
    [['-d', '22,-1'], '-d 22,-1: -1: not a port (1–65535)'],
    [['-i', '10.0.0.0/33'], '-i 10.0.0.0/33: not a prefix length (0–32)'],
    [['-x', '*'], '-x *: not an IP address or CIDR'],
    [['-o', '3306;5432'], '-o 3306;5432: not a port (1–65535)'],
    [['-q', 'x'], '-q x: not a port (1–65535)'],
    [
      ['-i', '10.0.0.0/8, 10.0.0.0/33'],
      '-i "10.0.0.0/8, 10.0.0.0/33": 10.0.0.0/33: not a prefix length (0–32)',
    ],
    [['-m', 'SPLICE'], '-m SPLICE: must be one of REDIRECT, TPROXY'],
    [['--ipv6', 'maybe'], '--ipv6 maybe: must be one of auto, on, off'],
    [['--backend', 'xt'], '--backend xt: must be one of auto, nft, legacy'],
  ])('%j: %s', (argv, message) => {
    let error: { code?: string; message?: string } = {}
    try {
      parseArgs(argv)
    } catch (e) {
      error = e as typeof error
    }
    expect(error).toMatchObject({ code: 'MESH_ERR_IPTABLES_BAD_FLAG', message })
  })
})

describe('cidrValue', () => {
  it('keeps CIDRs and widens bare addresses to one host', () => {
    expect(cidrValue('198.19.0.0/16')).toBe('198.19.0.0/16')
    expect(cidrValue('198.19.0.7')).toBe('198.19.0.7/32')
    expect(cidrValue('fd00::7')).toBe('fd00::7/128')
    expect(cidrValue('2001:db8::/032')).toBe('2001:db8::/32')
    expect(() => cidrValue('example.com/8')).toThrow(/not an IP address/)
    expect(() => cidrValue('10.0.0.0/8/8')).toThrow(/not an IP address/)
    expect(() => cidrValue('10.0.0.0/33')).toThrow(/not a prefix length \(0–32\)/)
  })
})
