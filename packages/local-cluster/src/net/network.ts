// The host side of the local cluster: the bridge, one netns per pod with a veth into the bridge,
// the per-netns hosts files, the ClusterIP DNAT rules. Every object is entered in the ledger
// before it is made, so a crash at any point leaves a ledger that cleanup can follow.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { Ledger } from '../ledger.ts'
import { BRIDGE_ALIAS, cleanupHost, killProcess, netnsPids } from './cleanup.ts'
import type { HostExec } from './exec.ts'
import { formatIp, IpAllocator, nthIp, parseCidr } from './ipv4.ts'
import { netnsName, vethNames } from './names.ts'
import {
  baseRules,
  hookRules,
  ownChains,
  type ServicePortRule,
  type ServiceRuleSet,
  serviceRules,
} from './service-rules.ts'

export interface NetworkOptions {
  exec: HostExec
  ledger: Ledger
  log: Logger
  /** Bridge name (≤ 15 chars), default `mm0`. */
  bridge: string
  podCidr: string
  serviceCidr: string
  /** Prefix of netns names (`mm` → `mm-default-reviews-v1-…`). */
  netnsPrefix: string
  /** Prefix of veth names (short: ≤ 4 chars leaves room for the hash). */
  linkPrefix: string
  /** Prefix of iptables chains (`MM` → `MM-SERVICES`). */
  chainPrefix: string
  /** Where `ip netns exec` looks for per-netns files; /etc/netns. */
  etcNetns?: string
}

export interface PodNetwork {
  netns: string
  ip: string
  hostVeth: string
}

export class Network {
  readonly gatewayIp: string
  readonly #o: NetworkOptions
  readonly #pods: IpAllocator
  readonly #rules: ServiceRuleSet
  readonly #etc: string
  #chains: string[] = []
  #lastRules = ''

  constructor(options: NetworkOptions) {
    this.#o = options
    const pod = parseCidr(options.podCidr)
    this.gatewayIp = formatIp(nthIp(pod, 1))
    this.#pods = new IpAllocator(pod, [nthIp(pod, 1)])
    this.#rules = {
      chainPrefix: options.chainPrefix,
      bridge: options.bridge,
      podCidr: options.podCidr,
      serviceCidr: options.serviceCidr,
    }
    this.#etc = options.etcNetns ?? '/etc/netns'
  }

  #run(argv: string[], input?: string): Promise<string> {
    return this.#o.exec.run(argv, input)
  }

  /** Makes the bridge, turns forwarding on, installs our chains and hooks. */
  async setup(): Promise<void> {
    const { bridge, ledger } = this.#o
    const prefixLen = parseCidr(this.#o.podCidr).bits
    ledger.update((d) => {
      d.bridge = bridge
      d.chainPrefix = `${this.#o.chainPrefix}-SVC-`
    })
    await this.#run(['ip', 'link', 'add', bridge, 'type', 'bridge'])
    await this.#run(['ip', 'link', 'set', bridge, 'alias', BRIDGE_ALIAS])
    await this.#run(['ip', 'addr', 'add', `${this.gatewayIp}/${prefixLen}`, 'dev', bridge])
    await this.#run(['ip', 'link', 'set', bridge, 'up'])
    // ClusterIPs route to the bridge: with no DNAT match they are rejected, never sent off the host.
    await this.#run(['ip', 'route', 'add', this.#o.serviceCidr, 'dev', bridge])
    this.#sysctl('/proc/sys/net/ipv4/ip_forward', '1')
    this.#sysctl('/proc/sys/net/bridge/bridge-nf-call-iptables', '1')
    ledger.update((d) => d.chains.push(...ownChains(this.#rules)))
    await this.#run(['iptables-restore', '-w', '--noflush'], baseRules(this.#rules))
    await this.syncServices([])
    for (const h of hookRules(this.#rules)) {
      ledger.update((d) => d.hooks.push(h))
      await this.#run(['iptables', '-w', '-t', h.table, '-I', h.chain, '1', ...h.spec])
    }
  }

  #sysctl(path: string, value: string): void {
    if (!existsSync(path)) return
    const previous = readFileSync(path, 'utf8').trim()
    if (previous === value) return
    this.#o.ledger.update((d) => d.sysctls.push({ path, previous }))
    writeFileSync(path, value)
  }

  /** A netns for a pod, wired to the bridge: `eth0` with the pod's address, `lo` up, default route. */
  async addPod(namespace: string, name: string): Promise<PodNetwork> {
    const { ledger, linkPrefix, netnsPrefix } = this.#o
    const netns = netnsName(netnsPrefix, namespace, name)
    const veth = vethNames(linkPrefix, netns)
    const ip = this.#pods.allocate()
    const prefixLen = parseCidr(this.#o.podCidr).bits
    ledger.addUnique('netns', netns)
    await this.#run(['ip', 'netns', 'add', netns])
    ledger.addUnique('links', veth.host)
    await this.#run([
      'ip',
      'link',
      'add',
      veth.host,
      'type',
      'veth',
      'peer',
      'name',
      veth.peer,
      'netns',
      netns,
    ])
    await this.#run(['ip', 'link', 'set', veth.host, 'master', this.#o.bridge])
    await this.#run(['ip', 'link', 'set', veth.host, 'type', 'bridge_slave', 'hairpin', 'on'])
    await this.#run(['ip', 'link', 'set', veth.host, 'up'])
    const inNs = (...argv: string[]) => this.#run(['ip', '-n', netns, ...argv])
    await inNs('link', 'set', veth.peer, 'name', 'eth0')
    await inNs('addr', 'add', `${ip}/${prefixLen}`, 'dev', 'eth0')
    await inNs('link', 'set', 'eth0', 'up')
    await inNs('link', 'set', 'lo', 'up')
    await inNs('route', 'add', 'default', 'via', this.gatewayIp)
    this.#o.log.debug({ netns, ip, veth: veth.host }, 'pod network up')
    return { netns, ip, hostVeth: veth.host }
  }

  /** Kills whatever still runs in the pod's netns, then removes it, its veth and its /etc/netns files. */
  async removePod(pod: PodNetwork): Promise<void> {
    const { ledger } = this.#o
    for (const pid of await netnsPids(this.#o.exec, pod.netns)) await killProcess(pid, undefined, 500)
    await this.#run(['ip', 'netns', 'del', pod.netns]).catch(() => {})
    await this.#run(['ip', 'link', 'del', pod.hostVeth]).catch(() => {})
    ledger.remove('netns', pod.netns)
    ledger.remove('links', pod.hostVeth)
    const dir = join(this.#etc, pod.netns)
    rmSync(dir, { recursive: true, force: true })
    ledger.remove('etcDirs', dir)
    this.#pods.release(pod.ip)
  }

  /**
   * Writes a file of the pod's /etc (hosts, resolv.conf). In place, never by rename: `ip netns exec`
   * bind-mounts the file over /etc/hosts, and a renamed file would leave running processes with the old one.
   */
  writeEtcFile(netns: string, file: 'hosts' | 'resolv.conf', text: string): void {
    const dir = join(this.#etc, netns)
    if (!existsSync(this.#etc)) this.#o.ledger.update((d) => (d.madeEtcNetns = true))
    this.#o.ledger.addUnique('etcDirs', dir)
    mkdirSync(dir, { recursive: true })
    const path = join(dir, file)
    if (existsSync(path) && readFileSync(path, 'utf8') === text) return
    writeFileSync(path, text)
  }

  /** Rewrites the ClusterIP DNAT rules in one iptables-restore transaction (skipped when unchanged). */
  async syncServices(rules: readonly ServicePortRule[]): Promise<void> {
    const { text, chains } = serviceRules(this.#rules, rules, this.#chains)
    if (text === this.#lastRules) return
    await this.#run(['iptables-restore', '-w', '--noflush'], text)
    this.#chains = chains
    this.#lastRules = serviceRules(this.#rules, rules, chains).text
  }

  /** Removes everything in the ledger (pods included) and forgets it. */
  async teardown(): Promise<string[]> {
    const done = await cleanupHost(this.#o.ledger.data, this.#o.exec, this.#o.log)
    this.#o.ledger.delete()
    return done
  }
}
