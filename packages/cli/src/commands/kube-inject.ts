// meshctl kube-inject: the webhook's inject() applied to manifests, for clusters without the
// webhook or to see what it would do. Multi-document YAML in, YAML out; kinds without a pod
// template pass through untouched (their text, comments included).
import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import {
  type InjectConfig,
  InjectError,
  injectResource,
  resolveInjectConfig,
  uninjectResource,
} from '@minimesh/injector'
import { parseAllDocuments, stringify } from 'yaml'
import { InputError } from '../errors.ts'
import { commandOptions } from './options.ts'
import { type Command, type CommandIo, UsageError } from './types.ts'

async function readInput(file: string, io: CommandIo): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = []
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    return Buffer.concat(chunks).toString('utf8')
  }
  try {
    return await readFile(resolve(io.cwd, file), 'utf8')
  } catch (cause) {
    throw new InjectError(
      'MESH_ERR_INJECT_BAD_MANIFEST',
      `cannot read ${file}: ${(cause as Error).message}`,
      { cause },
    )
  }
}

/** --ca-root-cert FILE: the PEM certificates in it (what else the file holds is left out). */
async function readRoots(file: string, io: CommandIo): Promise<string> {
  let text: string
  try {
    text = await readFile(resolve(io.cwd, file), 'utf8')
  } catch (cause) {
    throw new InputError(`--ca-root-cert ${file}: cannot read it: ${(cause as Error).message}`, { cause })
  }
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)
  if (!certs)
    throw new InputError(`--ca-root-cert ${file}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)`)
  return `${certs.join('\n')}\n`
}

/** Injects (or uninjects) every document of a YAML stream; returns the new stream and notes. */
export function injectManifests(
  text: string,
  file: string,
  options: { config: InjectConfig; uninject?: boolean },
): { output: string; notes: string[] } {
  const docs = parseAllDocuments(text, { prettyErrors: true })
  const list = Array.isArray(docs) ? docs : [docs]
  const out: string[] = []
  const notes: string[] = []
  for (const doc of list) {
    const err = doc.errors[0]
    if (err) {
      const line = err.linePos?.[0].line
      throw new InjectError(
        'MESH_ERR_INJECT_BAD_MANIFEST',
        `${file}${line ? `:${line}` : ''}: ${err.message.split('\n')[0]}`,
      )
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown
    if (value === null || value === undefined) continue
    // Documents are joined with '---' below; drop each one's own start marker.
    doc.directives.docStart = null
    if (typeof value !== 'object' || Array.isArray(value)) {
      out.push(doc.toString())
      continue
    }
    let result: ReturnType<typeof injectResource>
    try {
      result = options.uninject
        ? uninjectResource(value as Record<string, unknown>)
        : injectResource(value as Record<string, unknown>, options.config)
    } catch (e) {
      if (!(e instanceof InjectError)) throw e
      const v = value as { kind?: string; metadata?: { name?: string; namespace?: string } }
      const what = `${v.kind ?? '?'} ${v.metadata?.namespace ?? 'default'}/${v.metadata?.name ?? '?'}`
      throw new InjectError(e.code, `${file}: ${what}: ${e.message}`, { cause: e })
    }
    notes.push(...result.notes)
    // YAML 1.1 output quotes "yes", "on", … so kubectl reads them back as strings.
    out.push(result.changed ? stringify(result.object, { version: '1.1' }) : doc.toString())
  }
  return { output: out.join('---\n'), notes }
}

const OPTIONS = commandOptions(
  {
    filename: {
      type: 'string',
      short: 'f',
      arg: 'FILE',
      help: "manifests to inject (multi-document YAML; '-' reads stdin)",
    },
    output: { type: 'string', short: 'o', arg: 'FILE', defaultText: 'stdout', help: 'write here' },
    uninject: { type: 'boolean', help: 'take the sidecar out again instead' },
    image: {
      type: 'string',
      arg: 'IMAGE',
      defaultText: 'minimesh/proxy:0.1.0',
      help: 'proxy and init image',
    },
    'discovery-address': {
      type: 'string',
      arg: 'HOST:PORT',
      defaultText: 'meshd.minimesh-system.svc:15010',
      help: 'control plane address',
    },
    'native-sidecars': {
      type: 'boolean',
      help:
        'the proxy as a native sidecar (an init container with restartPolicy Always; Kubernetes 1.29+, ' +
        "as meshd's webhook does on 1.33+); default: a classic sidecar that holds the app until it is " +
        "ready. A pod's sidecar.minimesh.dev/nativeSidecar annotation wins either way",
    },
    'ca-root-cert': {
      type: 'string',
      arg: 'FILE',
      help:
        "the mesh roots (PEM: meshd's CA root-cert.pem), as meshd's webhook adds them: the sidecar gets " +
        'MESH_CA_ROOT_CERT and the projected token minimesh-token, takes a workload certificate from ' +
        "meshd's CA and speaks mTLS. Without them the sidecar has no identity, and a workload whose " +
        'PeerAuthentication is STRICT refuses its calls',
    },
  },
  `meshctl kube-inject -f FILE [-o FILE] [--uninject] [--image IMAGE] [--discovery-address HOST:PORT]
                    [--native-sidecars] [--ca-root-cert FILE]`,
  {
    footer: `Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, ReplicationControllers, Jobs and
CronJobs are injected as the webhook would (the namespace counts as opted in; a pod's
sidecar.minimesh.dev/inject: "false", hostNetwork and the mesh's namespaces are honoured).
Everything else passes through unchanged.`,
  },
)

export const kubeInject: Command = {
  name: 'kube-inject',
  summary: 'inject the sidecar into Kubernetes manifests (as the webhook does)',
  usage: OPTIONS.usage(),
  async run(args, io) {
    const { values } = OPTIONS.parse(args)
    if (!values.filename) throw new UsageError('-f FILE is required (use -f - for stdin)')
    const roots = values['ca-root-cert']
    const caRootCert = roots === undefined ? undefined : await readRoots(roots, io)
    const config = resolveInjectConfig({
      ...(values.image ? { image: values.image } : {}),
      ...(values['discovery-address'] ? { discoveryAddress: values['discovery-address'] } : {}),
      ...(values['native-sidecars'] ? { nativeSidecars: true } : {}),
      ...(caRootCert ? { caRootCert } : {}),
    })
    const file = values.filename
    const text = await readInput(file, io)
    const { output, notes } = injectManifests(text, file === '-' ? '<stdin>' : file, {
      config,
      uninject: values.uninject,
    })
    for (const n of notes) io.err(`meshctl kube-inject: ${n}\n`)
    if (values.output) await writeFile(resolve(io.cwd, values.output), output)
    else io.out(output)
    return 0
  },
}
