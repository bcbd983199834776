// minimesh on kind: the names the kind path shares (cluster, context, ports), the image list
// (kind/images.txt, read by `make images`, kind/up.sh and the tests), prerequisite checks for
// docker and kind with what to install, and the argv of the commands run inside pods.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { InstallError } from './errors.ts'

export const KIND_CLUSTER = 'minimesh'
export const KIND_CONTEXT = `kind-${KIND_CLUSTER}`
/** kind/cluster.yaml maps this node port of the kind node to 127.0.0.1:GATEWAY_HOST_PORT. */
export const GATEWAY_NODE_PORT = 30080
export const GATEWAY_HOST_PORT = 8080

/** The checkout (…/packages/cli/src/install → …). */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '')
}

export interface ImageSpec {
  /** `minimesh/meshd:0.1.0` */
  image: string
  /** Its Dockerfile, relative to the repository root (the build context). */
  dockerfile: string
  /** `--build-arg`s, e.g. `{ APP: 'details' }` for the shared Bookinfo Dockerfile. */
  buildArgs: Record<string, string>
}

/**
 * Parses kind/images.txt: `<repository>:<tag> <Dockerfile> [ARG=value …]` per line; `#` comments
 * and blank lines skipped.
 */
export function parseImagesList(text: string, file = 'kind/images.txt'): ImageSpec[] {
  const out: ImageSpec[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim()
    if (!line) return
    const fields = line.split(/\s+/)
    const [image, dockerfile, ...args] = fields
    if (
      !image ||
      !dockerfile ||
      !/^[a-z0-9][a-z0-9._/-]*:[\w.-]+$/.test(image) ||
      args.some((a) => !/^[A-Za-z_][A-Za-z0-9_]*=\S+$/.test(a))
    ) {
      throw new InstallError(
        'MESH_ERR_INSTALL_INPUT',
        `${file}:${i + 1}: expected "<repository>:<tag> <Dockerfile> [ARG=value …]", got ${JSON.stringify(raw)}`,
      )
    }
    if (out.some((s) => s.image === image)) {
      throw new InstallError('MESH_ERR_INSTALL_INPUT', `${file}:${i + 1}: ${image} is listed twice`)
    }
    out.push({
      image,
      dockerfile,
      buildArgs: Object.fromEntries(
        args.map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
      ),
    })
  })
  return out
}

export function readImagesList(root = repoRoot()): ImageSpec[] {
  return parseImagesList(readFileSync(`${root}/kind/images.txt`, 'utf8'))
}

/** `kind get clusters` output → names (it prints "No kind clusters found." on stderr when none). */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^No kind clusters/.test(l))
}

/** `docker port <node> 30080/tcp` output → the host address, e.g. 127.0.0.1:8080 (first line). */
export function parseDockerPort(stdout: string): { host: string; port: number } | undefined {
  for (const line of stdout.split('\n')) {
    const m = /^(.*):(\d+)$/.exec(line.trim())
    if (m) return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) }
  }
  return undefined
}

export interface CommandResult {
  ok: boolean
  /** stdout and stderr, trimmed; for a missing binary, the spawn error. */
  output: string
  missing: boolean
}

/** Runs a command with a time limit; never throws. */
export function runTool(cmd: string, args: string[], timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim()
      if (!err) return resolve({ ok: true, output, missing: false })
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
      resolve({ ok: false, output: missing ? `${cmd}: not found on PATH` : output || err.message, missing })
    })
  })
}

const INSTALL_HINTS = {
  docker: 'install Docker Engine (https://docs.docker.com/engine/install/) and start it',
  dockerDaemon:
    'the docker client is installed but no Docker engine answers: start it (`sudo systemctl start docker`), ' +
    'or make your user able to reach it (`sudo usermod -aG docker $USER`, then log in again)',
  kind: 'install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), e.g. `go install sigs.k8s.io/kind@latest`',
}

/** What is wrong with docker and kind on this machine, as lines saying what to install; [] = ready. */
export function prerequisiteProblems(docker: CommandResult, kind: CommandResult): string[] {
  const problems: string[] = []
  if (docker.missing) problems.push(`docker is not installed: ${INSTALL_HINTS.docker}`)
  else if (!docker.ok) {
    const said =
      docker.output.split('\n').find((l) => /error|cannot|denied/i.test(l)) ?? docker.output.split('\n')[0]
    problems.push(`\`docker info\` failed (${said?.trim() ?? 'no output'}): ${INSTALL_HINTS.dockerDaemon}`)
  }
  if (kind.missing) problems.push(`kind is not installed: ${INSTALL_HINTS.kind}`)
  else if (!kind.ok)
    problems.push(`\`kind version\` failed (${kind.output.split('\n')[0] ?? ''}): reinstall kind`)
  return problems
}

/** Checks `docker info` and `kind version`; throws MESH_ERR_INSTALL_TOOL_MISSING saying what to install. */
export async function checkKindPrerequisites(
  run: typeof runTool = runTool,
): Promise<{ kindVersion: string }> {
  const [docker, kind] = await Promise.all([
    run('docker', ['info', '--format', '{{.ServerVersion}}']),
    run('kind', ['version']),
  ])
  const problems = prerequisiteProblems(docker, kind)
  if (problems.length > 0) {
    throw new InstallError(
      'MESH_ERR_INSTALL_TOOL_MISSING',
      `minimesh on kind needs a working Docker and kind:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Without Docker, run the same suite on the local cluster instead: `pnpm e2e:local` (root).',
    )
  }
  return { kindVersion: kind.output.split('\n')[0] ?? '' }
}

/**
 * argv of a Node one-liner that fetches a URL and prints `{"status":…,"body":…}` as JSON; every
 * minimesh image has node (the Bookinfo images and the proxy image alike), none has curl.
 */
export function nodeFetchArgv(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 15_000,
): string[] {
  const script =
    'const [u,h,t]=process.argv.slice(1);' +
    'fetch(u,{headers:JSON.parse(h),signal:AbortSignal.timeout(Number(t))})' +
    '.then(async r=>{process.stdout.write(JSON.stringify({status:r.status,body:await r.text()}))})' +
    '.catch(e=>{process.stderr.write(String(e&&e.cause||e));process.exit(7)})'
  return ['node', '-e', script, url, JSON.stringify(headers), String(timeoutMs)]
}

/** The JSON printed by nodeFetchArgv's script. */
export function parseNodeFetchOutput(stdout: string): { status: number; body: string } {
  let parsed: unknown
  try {
    parsed = JSON.parse(stdout)
  } catch {
    throw new InstallError('MESH_ERR_INSTALL_INPUT', `fetch in pod printed no JSON: ${stdout.slice(0, 200)}`)
  }
  const p = parsed as { status?: unknown; body?: unknown }
  if (typeof p.status !== 'number' || typeof p.body !== 'string') {
    throw new InstallError('MESH_ERR_INSTALL_INPUT', `fetch in pod printed ${stdout.slice(0, 200)}`)
  }
  return { status: p.status, body: p.body }
}
