// The pure parts of the host plumbing: names, address allocation, hosts files, iptables rules.
import { describe, expect, it } from 'vitest'
import { expectGolden } from '../testdata/golden.ts'
import { renderHostsFile } from './hosts-file.ts'
import { cidrsOverlap, IpAllocator, parseCidr } from './ipv4.ts'
import { IFNAME_MAX, netnsName, vethNames } from './names.ts'
import { baseRules, hookRules, serviceRules } from './service-rules.ts'

const set = { chainPrefix: 'MM', bridge: 'mm0', podCidr: '198.18.0.0/16', serviceCidr: '198.19.0.0/16' }

describe('names', () => {
  it('makes unique, prefixed netns names and veth names within 15 characters', () => {
    expect(netnsName('mm', 'default', 'reviews-v1-abc')).toBe('mm-default-reviews-v1-abc')
    const long = netnsName(
      'mm',
      'a-very-long-namespace-name-indeed',
      'reviews-v1-6d8f7c9b4-xkq2p-and-more-and-more',
    )
    expect(long.length).toBeLessThanOrEqual(60)
    expect(long).not.toBe(
      netnsName('mm', 'a-very-long-namespace-name-indeed', 'reviews-v1-6d8f7c9b4-xkq2p-and-more-and-moreX'),
    )
    const v = vethNames('mm', 'mm-default-reviews-v1-abc')
    expect(v.host.length).toBe(IFNAME_MAX)
    expect(v.host).toMatch(/^mmh[0-9a-f]+$/)
    expect(v.peer).toBe(v.host.replace(/^mmh/, 'mmp'))
    expect(vethNames('mm', 'mm-x').host).not.toBe(vethNames('mm', 'mm-y').host)
  })
})

describe('addresses', () => {
  it('allocates pod addresses after the bridge, reuses released ones last, and runs out clearly', () => {
    const a = new IpAllocator(parseCidr('198.18.7.0/29'), [parseCidr('198.18.7.1').base])
    expect([a.allocate(), a.allocate()]).toEqual(['198.18.7.2', '198.18.7.3'])
    a.release('198.18.7.2')
    expect([a.allocate(), a.allocate(), a.allocate(), a.allocate()]).toEqual([
      '198.18.7.4',
      '198.18.7.5',
      '198.18.7.6',
      '198.18.7.2',
    ])
    expect(() => a.allocate()).toThrow(/no free address left in 198.18.7.0\/29/)
    expect(a.claim('198.18.7.6')).toBe(false)
    expect(a.claim('10.0.0.1')).toBe(false)
  })
  it('tells overlapping ranges apart', () => {
    expect(cidrsOverlap(parseCidr('198.18.0.0/16'), parseCidr('198.18.5.0/24'))).toBe(true)
    expect(cidrsOverlap(parseCidr('198.18.0.0/16'), parseCidr('198.19.0.0/16'))).toBe(false)
    expect(() => parseCidr('198.18.0.0/33')).toThrow(/not an IPv4 CIDR/)
  })
})

describe('hosts file', () => {
  it('maps every Service name form to its ClusterIP, short names only in the pod namespace', () => {
    const text = renderHostsFile({
      podName: 'productpage-v1-abc',
      podNamespace: 'default',
      podIp: '198.18.0.7',
      services: [
        { name: 'reviews', namespace: 'default', addresses: ['198.19.0.4'] },
        { name: 'meshd', namespace: 'minimesh-system', addresses: ['198.19.0.1'] },
      ],
    })
    expectGolden('hosts', text)
    expect(text).toContain(
      '198.19.0.4\treviews.default.svc.cluster.local reviews.default.svc reviews.default reviews\n',
    )
    expect(text).toContain(
      '198.19.0.1\tmeshd.minimesh-system.svc.cluster.local meshd.minimesh-system.svc meshd.minimesh-system\n',
    )
  })
})

describe('iptables rules', () => {
  it('hooks our chains in and builds the fixed rules', () => {
    expectGolden('base-rules.txt', baseRules(set))
    expect(hookRules(set).map((h) => `${h.table} ${h.chain} ${h.spec.join(' ')}`)).toEqual([
      'nat PREROUTING -d 198.19.0.0/16 -m comment --comment minimesh local cluster -j MM-SERVICES',
      'nat OUTPUT -d 198.19.0.0/16 -m comment --comment minimesh local cluster -j MM-SERVICES',
      'nat POSTROUTING -m comment --comment minimesh local cluster -j MM-POSTROUTING',
      'filter FORWARD -m comment --comment minimesh local cluster -j MM-FORWARD',
      'filter OUTPUT -d 198.19.0.0/16 -m comment --comment minimesh local cluster -j MM-OUTPUT',
    ])
  })

  it('spreads a ClusterIP over its endpoints with random probabilities 1/n…1 and drops stale chains', () => {
    const first = serviceRules(set, [
      {
        id: 'default/reviews:http',
        clusterIp: '198.19.0.4',
        port: 9080,
        protocol: 'tcp',
        endpoints: [
          { ip: '198.18.0.9', port: 9080 },
          { ip: '198.18.0.7', port: 9080 },
          { ip: '198.18.0.8', port: 9080 },
        ],
      },
      {
        id: 'default/ratings:http',
        clusterIp: '198.19.0.5',
        port: 9080,
        protocol: 'tcp',
        endpoints: [{ ip: '198.18.0.10', port: 9080 }],
      },
      { id: 'default/empty:http', clusterIp: '198.19.0.6', port: 80, protocol: 'tcp', endpoints: [] },
    ])
    expectGolden('service-rules.txt', first.text)
    expect(first.text).toContain('--probability 0.3333333333')
    expect(first.text).toContain('--probability 0.5000000000')
    expect(first.chains).toHaveLength(2)
    const second = serviceRules(set, [], first.chains)
    expect(second.text).toBe(
      [
        '*nat',
        ':MM-SERVICES - [0:0]',
        ...first.chains.sort().map((c) => `:${c} - [0:0]`),
        ...first.chains.sort().map((c) => `-X ${c}`),
        'COMMIT',
        '',
      ].join('\n'),
    )
  })
})

describe('preflight', () => {
  it('refuses ranges another interface or route already uses, naming it', async () => {
    const { checkAddressRanges } = await import('./preflight.ts')
    const { RecordingExec } = await import('./exec.ts')
    const opts = { bridge: 'mm0', podCidr: '198.18.0.0/16', serviceCidr: '198.19.0.0/16' }
    const exec = (addrs: unknown[], routes: unknown[]) =>
      new RecordingExec().answer((argv) =>
        argv.includes('addr')
          ? JSON.stringify(addrs)
          : argv.includes('route')
            ? JSON.stringify(routes)
            : undefined,
      )
    const eth = { ifname: 'eth0', addr_info: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24 }] }
    await expect(
      checkAddressRanges(
        exec(
          [eth],
          [
            { dst: 'default', dev: 'eth0' },
            { dst: '198.0.0.0/8', dev: 'eth0' },
          ],
        ),
        opts,
      ),
    ).resolves.toBeUndefined()
    const vpn = { ifname: 'tun0', addr_info: [{ family: 'inet', local: '198.19.3.4', prefixlen: 24 }] }
    await expect(checkAddressRanges(exec([eth, vpn], []), opts)).rejects.toMatchObject({
      code: 'MESH_ERR_LOCAL_RANGE_IN_USE',
      message: expect.stringContaining('198.19.0.0/16 is in use: tun0 has 198.19.3.4/24'),
    })
    await expect(
      checkAddressRanges(exec([eth], [{ dst: '198.18.5.0/24', dev: 'wg0' }]), opts),
    ).rejects.toThrow(/a route to 198.18.5.0\/24 via wg0/)
    // Our own bridge (a cluster being restarted) does not count.
    const ours = { ifname: 'mm0', addr_info: [{ family: 'inet', local: '198.18.0.1', prefixlen: 16 }] }
    await expect(
      checkAddressRanges(exec([ours], [{ dst: '198.18.0.0/16', dev: 'mm0' }]), opts),
    ).resolves.toBeUndefined()
  })

  it.skipIf(process.getuid?.() !== 0)('says what to do when not root', async () => {
    const { execFileSync } = await import('node:child_process')
    const preflight = new URL('./preflight.ts', import.meta.url).pathname
    let out = ''
    try {
      execFileSync(
        'setpriv',
        [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          process.execPath,
          '--input-type=module',
          '-e',
          `import(${JSON.stringify(preflight)}).then((m) => m.checkRoot())`,
        ],
        { encoding: 'utf8', stdio: 'pipe' },
      )
    } catch (err) {
      out = String((err as { stderr: string }).stderr)
    }
    expect(out).toMatch(/the local cluster needs root .* run it with sudo/)
  })
})
