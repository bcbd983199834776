import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { availableBackends, detectBackend, podHasIpv6 } from './detect.ts'

const v4 = {
  address: '198.18.0.5',
  netmask: '255.255.0.0',
  family: 'IPv4',
  mac: '',
  internal: false,
  cidr: null,
} as const
const lo6 = {
  address: '::1',
  netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  family: 'IPv6',
  mac: '',
  internal: true,
  cidr: null,
  scopeid: 0,
} as const
const ll6 = { ...lo6, address: 'fe80::1c2e:aff:fe01:2', internal: false, scopeid: 2 } as const
const global6 = { ...lo6, address: '2001:2:0:c8::2', internal: false } as const

describe('podHasIpv6', () => {
  it('counts a global or ULA IPv6 address outside lo, not link-local or loopback', () => {
    expect(podHasIpv6({ lo: [lo6], eth0: [v4, ll6] })).toBe(false)
    expect(podHasIpv6({ lo: [lo6], eth0: [v4, ll6, global6] })).toBe(true)
    expect(podHasIpv6({ eth0: [{ ...global6, address: 'fd00::5' }] })).toBe(true)
  })
})

describe('backends', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-init-bin-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('sees only backends whose save and restore are both on PATH', () => {
    expect(availableBackends(4, dir)).toEqual([])
    for (const name of ['iptables-legacy-save', 'iptables-legacy-restore', 'iptables-nft-save']) {
      writeFileSync(join(dir, name), '#!/bin/sh\n', { mode: 0o755 })
    }
    expect(availableBackends(4, dir)).toEqual(['legacy'])
    expect(availableBackends(6, dir)).toEqual([])
  })

  it('says how to install iptables when none is there', async () => {
    await expect(detectBackend('auto', { path: '/nonexistent' })).rejects.toMatchObject({
      code: 'MESH_ERR_IPTABLES_MISSING',
      message: expect.stringContaining('apt-get install -y iptables'),
    })
    await expect(detectBackend('nft', { path: dir })).rejects.toMatchObject({
      code: 'MESH_ERR_IPTABLES_MISSING',
    })
    expect(await detectBackend('legacy', { path: dir })).toBe('legacy')
  })
})
