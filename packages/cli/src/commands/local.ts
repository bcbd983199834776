// meshctl local: the local cluster (every pod a network namespace on this host), driven like kubectl.
//   up      start the cluster (a background supervisor) and install the mesh into it
//   apply   -f FILE|DIR|-           delete  -f … | KIND NAME…
//   get     KIND [NAME]             logs    POD [-c C] [-f]
//   exec    POD [-c C] -- CMD…      wait    [-n NS] [-l SEL]
//   url     the ingress gateway URL down    stop everything and remove what it made
import { formatOptions, type OptionTable } from '@minimesh/api/options'
import { PROXY_ADMIN_PORT } from '@minimesh/api/ports'
import {
  defaultRunDir,
  kindByName,
  LocalClusterClient,
  type ObjectRef,
  type ReadinessSummary,
  startSupervisor,
  stopSupervisor,
  supervisorStatus,
} from '@minimesh/local-cluster'
import { installManifests } from '../install/manifests.ts'
import { readManifests } from '../local/read-manifests.ts'
import { applyObjects, checkWithMeshd, printApplied } from '../mesh/apply.ts'
import { LocalTarget, TARGET_OPTIONS } from '../mesh/target.ts'
import { GET_FLAGS, getCommand } from './get.ts'
import { commandOptions, timeoutOption } from './options.ts'
import { resolvePod } from './proxy-config.ts'
import { type Command, type CommandIo, UsageError } from './types.ts'
import { waitForSync } from './wait.ts'

/** Each subcommand's synopsis and what it does (`meshctl local SUB --help` prints its own). */
const SUBCOMMAND_HELP: Record<string, { synopsis: string; summary: string; details?: string }> = {
  up: {
    synopsis: 'up [--bare] [--no-wait] [--timeout 300s] [--bridge mm0] [--pod-cidr C] [--service-cidr C]',
    summary: 'start the local cluster and install the mesh (meshd, gateway)',
  },
  apply: {
    synopsis: 'apply -f FILE|DIR|- [-n NS] [--wait] [--timeout 60s]',
    summary: 'create or update objects (admission webhooks apply)',
    details: `Prints a warning for each mesh resource meshd rejects (its previous version keeps serving).
--wait: then returns only once every proxy has ACKed configuration that includes the change; exits 1
when a resource was rejected or the proxies do not ACK within --timeout (naming them).`,
  },
  delete: {
    synopsis: 'delete -f FILE | KIND NAME… [-n NS] [--ignore-not-found] [--wait] [--timeout 60s]',
    summary: 'delete objects (--wait: until every proxy has ACKed configuration without them)',
  },
  get: {
    synopsis: 'get KIND [NAME] [-n NS | -A] [-l SEL] [-o wide|yaml|json|name]',
    summary: 'list objects; mesh resources show what meshd made of them (STATUS, status.conditions)',
  },
  logs: { synopsis: 'logs POD [-c CONTAINER] [-n NS] [-f]', summary: "a container's log" },
  exec: { synopsis: 'exec POD [-c CONTAINER] [-n NS] -- COMMAND [ARGS…]', summary: 'run a command in a pod' },
  wait: {
    synopsis: 'wait [-n NS] [-l SEL] [--timeout 300s] [--for=ready|sync]',
    summary: 'until Deployments and Pods are ready (--for=sync: until every proxy has the config)',
  },
  'port-forward': {
    synopsis: 'port-forward POD [LOCAL:]REMOTE [-n NS] [--address 127.0.0.1]',
    summary: `forward a local port to 127.0.0.1:REMOTE inside a pod (e.g. its proxy admin, ${PROXY_ADMIN_PORT})`,
  },
  url: { synopsis: 'url', summary: "the ingress gateway's URL from this host" },
  status: { synopsis: 'status', summary: 'whether a cluster runs' },
  down: { synopsis: 'down', summary: 'stop every pod and remove every netns, veth, rule and process' },
}

const COMMON = `Every subcommand takes --run-dir DIR (default $MINIMESH_LOCAL_RUN_DIR or /var/run/minimesh-local).
Needs root, iproute2 and iptables.`

const USAGE = `meshctl local <subcommand> [flags]

Subcommands:
${Object.values(SUBCOMMAND_HELP)
  .map((h) => `  ${h.synopsis}\n      ${h.summary}`)
  .join('\n')}

${COMMON}`

const namespace = {
  type: 'string',
  short: 'n',
  arg: 'NS',
  defaultText: 'default',
  help: 'namespace',
} as const
const filename = {
  type: 'list',
  short: 'f',
  arg: 'FILE|DIR|-',
  help: 'manifests: a file, a directory, or - for stdin (repeatable)',
} as const
const container = {
  type: 'string',
  short: 'c',
  arg: 'CONTAINER',
  defaultText: "the pod's first",
  help: 'container',
} as const

const RUN_DIR = { 'run-dir': TARGET_OPTIONS['run-dir'] } as const

/** A subcommand's option table, with --run-dir. */
function subcommand<const T extends OptionTable>(sub: string, table: T) {
  return commandOptions({ ...table, ...RUN_DIR }, `meshctl local ${SUBCOMMAND_HELP[sub]!.synopsis}`, {
    allowPositionals: true,
  })
}

/** Each subcommand's flags (every one takes --run-dir too). */
const OPTIONS = {
  up: subcommand('up', {
    bare: { type: 'boolean', help: 'start the cluster only, without the mesh' },
    'no-wait': { type: 'boolean', help: 'do not wait for the mesh to be ready' },
    timeout: timeoutOption(300_000, 'how long to wait for the mesh'),
    bridge: { type: 'string', arg: 'NAME', defaultText: 'mm0', help: 'bridge name' },
    'pod-cidr': { type: 'string', arg: 'CIDR', defaultText: '198.18.0.0/16', help: 'pod addresses' },
    'service-cidr': { type: 'string', arg: 'CIDR', defaultText: '198.19.0.0/16', help: 'Service ClusterIPs' },
  }),
  apply: subcommand('apply', {
    filename,
    namespace,
    wait: { type: 'boolean', help: 'return only once every proxy has ACKed the change' },
    timeout: timeoutOption(60_000, 'how long --wait waits'),
  }),
  delete: subcommand('delete', {
    filename,
    namespace,
    'ignore-not-found': { type: 'boolean', help: 'an object that is not there is no error' },
    wait: { type: 'boolean', help: 'return only once every proxy has ACKed configuration without them' },
    timeout: timeoutOption(60_000, 'how long --wait waits'),
  }),
  get: subcommand('get', GET_FLAGS),
  logs: subcommand('logs', {
    container,
    namespace,
    follow: { type: 'boolean', short: 'f', help: 'keep printing new lines' },
  }),
  exec: subcommand('exec', {
    container,
    namespace,
    stdin: { type: 'boolean', short: 'i', help: 'pass stdin to the command' },
    tty: { type: 'boolean', short: 't', help: 'accepted for kubectl compatibility' },
  }),
  wait: subcommand('wait', {
    namespace,
    'all-namespaces': { type: 'boolean', short: 'A', help: 'every namespace' },
    selector: { type: 'string', short: 'l', arg: 'SELECTOR', help: 'label selector' },
    timeout: {
      type: 'duration',
      bare: 's',
      defaultText: '300s; with --for=sync 60s',
      help: 'give up (exit 1) after this long',
    },
    for: { type: 'enum', values: ['ready', 'sync'], default: 'ready', help: 'what to wait for' },
  }),
  'port-forward': subcommand('port-forward', {
    namespace,
    address: { type: 'string', default: '127.0.0.1', help: 'local address to listen on' },
  }),
  url: subcommand('url', { namespace }),
  status: subcommand('status', {}),
  down: subcommand('down', {}),
}

/** `meshctl local apply --help`: that subcommand's usage only. */
export function subcommandUsage(sub: string): string | undefined {
  const h = SUBCOMMAND_HELP[sub]
  if (!h) return undefined
  const flags = formatOptions(OPTIONS[sub as keyof typeof OPTIONS].table)
  return `${h.summary}\n\nUsage: meshctl local ${h.synopsis}\n${h.details ? `\n${h.details}\n` : ''}\nFlags:\n${flags}\n\n${COMMON}\n`
}

function progress(io: CommandIo, s: ReadinessSummary): void {
  const parts = s.items.map(
    (i) =>
      `${i.kind === 'Deployment' ? '' : 'pod/'}${i.name} ${i.ready}/${i.want}${i.message && i.ready < i.want ? ` (${i.message})` : ''}`,
  )
  io.out(`  waiting: ${parts.join(', ') || 'nothing yet'}\n`)
}

async function waitFor(
  io: CommandIo,
  client: LocalClusterClient,
  namespace: string | undefined,
  selector: string | undefined,
  timeoutMs: number,
) {
  const t0 = Date.now()
  await client.waitReady({
    namespace,
    selector,
    timeoutMs,
    onProgress: (s) => (s.ready ? undefined : progress(io, s)),
  })
  io.out(`  ready${namespace ? ` in ${namespace}` : ''} after ${((Date.now() - t0) / 1000).toFixed(1)}s\n`)
}

async function up(args: string[], io: CommandIo): Promise<number> {
  const { values } = OPTIONS.up.parse(args)
  const runDir = values['run-dir'] ?? defaultRunDir()
  const status = supervisorStatus(runDir)
  if (status.running) {
    io.out(`local cluster already running (supervisor pid ${status.pid}, run dir ${runDir})\n`)
    return 0
  }
  if (status.leftovers) io.out('cleaning up what a previous local cluster left behind\n')
  io.out(`starting the local cluster (run dir ${runDir})\n`)
  const client = await startSupervisor({
    runDir,
    cluster: {
      ...(values.bridge ? { bridge: values.bridge } : {}),
      ...(values['pod-cidr'] ? { podCidr: values['pod-cidr'] } : {}),
      ...(values['service-cidr'] ? { serviceCidr: values['service-cidr'] } : {}),
    },
  })
  const info = await client.info()
  io.out(
    `supervisor running (pid ${info.pid}); bridge ${String(info.options.bridge)} ${info.hostIp}, pods ${String(info.options.podCidr)}, services ${String(info.options.serviceCidr)}\n`,
  )
  if (values.bare) return 0
  io.out('installing the mesh (CRDs, meshd, webhooks, ingress gateway)\n')
  printApplied(io, await client.apply(await installManifests()))
  if (values['no-wait']) return 0
  await waitFor(io, client, 'minimesh-system', undefined, values.timeout)
  io.out(`ingress gateway: ${await client.gatewayUrl()}\n`)
  return 0
}

async function down(args: string[], io: CommandIo): Promise<number> {
  const { values } = OPTIONS.down.parse(args)
  const runDir = values['run-dir'] ?? defaultRunDir()
  const removed = await stopSupervisor(runDir)
  io.out(
    removed.length
      ? `local cluster down; removed ${removed.join(', ')}\n`
      : 'no local cluster was running; nothing to remove\n',
  )
  return 0
}

async function apply(args: string[], io: CommandIo): Promise<number> {
  const { values } = OPTIONS.apply.parse(args)
  const objects = await readManifests([...values.filename], io.cwd, io.stdin, values.namespace)
  const target = new LocalTarget(values['run-dir'])
  const results = await applyObjects(io, target, objects)
  return checkWithMeshd(
    io,
    target,
    results.map((r) => r.ref),
    { wait: values.wait, timeoutMs: values.timeout },
  )
}

async function del(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = OPTIONS.delete.parse(args)
  let refs: ObjectRef[]
  if (values.filename.length) {
    const objects = await readManifests([...values.filename], io.cwd, io.stdin, values.namespace)
    refs = objects.map((o) => {
      const meta = (o.metadata ?? {}) as { name?: string; namespace?: string }
      return {
        kind: String(o.kind),
        name: meta.name ?? '',
        ...(meta.namespace ? { namespace: meta.namespace } : {}),
      }
    })
  } else {
    const [kindArg, ...names] = positionals
    if (!kindArg || names.length === 0) throw new UsageError('delete needs -f FILE or KIND NAME…')
    const [kind, slashName] = kindArg.split('/')
    const info = kindByName(kind!)
    refs = [...(slashName ? [slashName] : []), ...names].map((name) => ({
      kind: info.kind,
      name,
      namespace: values.namespace ?? 'default',
    }))
  }
  const client = new LocalClusterClient(values['run-dir'])
  const deleted = await client.delete(refs, { ignoreNotFound: values['ignore-not-found'] })
  for (const r of deleted) io.out(`${r.kind.toLowerCase()} "${r.name}" deleted\n`)
  if (!values.wait) return 0
  return checkWithMeshd(io, new LocalTarget(client.runDir), deleted, {
    wait: true,
    timeoutMs: values.timeout,
    deleted: true,
  })
}

async function get(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = OPTIONS.get.parse(args)
  return getCommand(new LocalTarget(values['run-dir']), positionals, values, io)
}

async function logs(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = OPTIONS.logs.parse(args)
  const pod = positionals[0]?.replace(/^pods?\//, '')
  if (!pod) throw new UsageError('logs needs a POD')
  const client = new LocalClusterClient(values['run-dir'])
  const ns = values.namespace ?? 'default'
  if (!values.follow) {
    io.out(await client.logs(ns, pod, values.container))
    return 0
  }
  const ac = new AbortController()
  process.once('SIGINT', () => ac.abort())
  await client.followLogs(ns, pod, values.container, (d) => io.out(d), ac.signal)
  return 0
}

async function exec(args: string[], io: CommandIo): Promise<number> {
  const dash = args.indexOf('--')
  if (dash < 0)
    throw new UsageError(
      'exec needs -- before the command: meshctl local exec POD -- curl -s http://reviews:9080/',
    )
  const { values, positionals } = OPTIONS.exec.parse(args.slice(0, dash))
  const pod = positionals[0]?.replace(/^pods?\//, '')
  const argv = args.slice(dash + 1)
  if (!pod || argv.length === 0) throw new UsageError('exec needs a POD and a command')
  void io
  return new LocalClusterClient(values['run-dir']).execInteractive(
    values.namespace ?? 'default',
    pod,
    argv,
    values.container,
  )
}

async function wait(args: string[], io: CommandIo): Promise<number> {
  const { values } = OPTIONS.wait.parse(args)
  if (values.for === 'sync')
    return waitForSync(new LocalTarget(values['run-dir']), io, values.timeout ?? 60_000)
  const ns = values['all-namespaces'] ? undefined : (values.namespace ?? 'default')
  await waitFor(io, new LocalClusterClient(values['run-dir']), ns, values.selector, values.timeout ?? 300_000)
  return 0
}

async function portForward(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = OPTIONS['port-forward'].parse(args)
  const [podArg, ports] = positionals
  if (!podArg || !ports) throw new UsageError('port-forward needs a POD and [LOCAL:]REMOTE')
  const m = /^(?:(\d+):)?(\d+)$/.exec(ports)
  if (!m) throw new UsageError(`bad port "${ports}" (use ${PROXY_ADMIN_PORT} or 8000:${PROXY_ADMIN_PORT})`)
  const remote = Number(m[2])
  const local = m[1] ? Number(m[1]) : remote
  if (remote < 1 || remote > 65535 || local > 65535)
    throw new UsageError(`bad port "${ports}": ports are 1–65535 (a LOCAL of 0 takes any free one)`)
  const target = new LocalTarget(values['run-dir'])
  const pod = await resolvePod(target, podArg, values.namespace)
  // Check the pod exists and runs before listening (execSpec names what is wrong).
  await target.client.execSpec(pod.namespace, pod.name)
  const fwd = await target.forward(pod.namespace, pod.name, remote, {
    host: values.address,
    port: local,
  })
  io.out(`Forwarding from ${fwd.address} -> ${pod.namespace}/${pod.name}:${remote} (Ctrl-C to stop)\n`)
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()))
  await fwd.close()
  return 0
}

async function url(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = OPTIONS.url.parse(args)
  io.out(`${await new LocalClusterClient(values['run-dir']).gatewayUrl(positionals[0], values.namespace)}\n`)
  return 0
}

async function status(args: string[], io: CommandIo): Promise<number> {
  const { values } = OPTIONS.status.parse(args)
  const runDir = values['run-dir'] ?? defaultRunDir()
  const s = supervisorStatus(runDir)
  if (s.running) io.out(`running (supervisor pid ${s.pid}, run dir ${runDir})\n`)
  else
    io.out(
      s.leftovers
        ? `not running, but a previous run left things behind: run \`meshctl local down\`\n`
        : 'not running\n',
    )
  return s.running ? 0 : 3
}

const SUBCOMMANDS: Record<string, (args: string[], io: CommandIo) => Promise<number>> = {
  'port-forward': portForward,
  up,
  down,
  apply,
  delete: del,
  get,
  logs,
  exec,
  wait,
  url,
  status,
}

export const local: Command = {
  name: 'local',
  summary: 'run a local cluster (pods as network namespaces on this host) and drive it like kubectl',
  usage: USAGE,
  help: (args) => (args[0] ? subcommandUsage(args[0]) : undefined),
  async run(args, io) {
    const [sub, ...rest] = args
    const fn = sub ? SUBCOMMANDS[sub] : undefined
    if (!fn) throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is needed')
    return fn(rest, io)
  },
}
