import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { InstallError } from './errors.ts'
import {
  checkKindPrerequisites,
  GATEWAY_HOST_PORT,
  GATEWAY_NODE_PORT,
  KIND_CLUSTER,
  nodeFetchArgv,
  parseDockerPort,
  parseImagesList,
  parseKindClusters,
  parseNodeFetchOutput,
  prerequisiteProblems,
  readImagesList,
  repoRoot,
  runTool,
} from './kind.ts'

describe('kind/images.txt', () => {
  it('parses "<image>:<tag> <Dockerfile> [ARG=value …]" lines, skipping comments', () => {
    expect(
      parseImagesList('# c\n\nminimesh/a:0.1.0   x/Dockerfile  # trailing\nminimesh/b:1 y APP=b\n'),
    ).toEqual([
      { image: 'minimesh/a:0.1.0', dockerfile: 'x/Dockerfile', buildArgs: {} },
      { image: 'minimesh/b:1', dockerfile: 'y', buildArgs: { APP: 'b' } },
    ])
  })
  it('rejects a line without a tag or Dockerfile, a malformed build argument, or an image listed twice, naming the line', () => {
    expect(() => parseImagesList('minimesh/a x/Dockerfile')).toThrow(/kind\/images.txt:1: expected/)
    expect(() => parseImagesList('minimesh/a:1')).toThrow(InstallError)
    expect(() => parseImagesList('minimesh/a:1 x/Dockerfile extra')).toThrow(InstallError)
    expect(() => parseImagesList('minimesh/a:1 x\nminimesh/a:1 y')).toThrow(
      /:2: minimesh\/a:1 is listed twice/,
    )
  })
  it('builds the four Bookinfo images from one Dockerfile, each with its APP', () => {
    const bookinfo = readImagesList().filter((i) => i.image.startsWith('minimesh/bookinfo-'))
    expect(bookinfo.map((i) => [i.dockerfile, i.buildArgs.APP, i.image.split(':')[0]])).toEqual(
      ['productpage', 'details', 'reviews', 'ratings'].map((app) => [
        'apps/bookinfo/Dockerfile',
        app,
        `minimesh/bookinfo-${app}`,
      ]),
    )
  })
  it('lists the six images of DESIGN.md, all tagged 0.1.0', () => {
    const images = readImagesList()
    expect(images.map((i) => i.image).sort()).toEqual(
      [
        'minimesh/bookinfo-details:0.1.0',
        'minimesh/bookinfo-productpage:0.1.0',
        'minimesh/bookinfo-ratings:0.1.0',
        'minimesh/bookinfo-reviews:0.1.0',
        'minimesh/meshd:0.1.0',
        'minimesh/proxy:0.1.0',
      ].sort(),
    )
  })
  it('kind/lib.sh reads the same list as the TypeScript parser', async () => {
    const { stdout } = await promisify(execFile)('bash', [
      '-c',
      `source "${repoRoot()}/kind/lib.sh" && image_list`,
    ])
    const fromShell = stdout
      .trim()
      .split('\n')
      .map((l) => {
        const [image, dockerfile, ...args] = l.split(' ')
        return { image, dockerfile, buildArgs: Object.fromEntries(args.map((a) => a.split('='))) }
      })
    expect(fromShell).toEqual(readImagesList())
  })
  it('`make images` runs kind/images.sh, which builds every listed image with its tag from the repo root', () => {
    const makefile = readFileSync(`${repoRoot()}/Makefile`, 'utf8')
    expect(makefile).toMatch(/^\.PHONY:.*\bimages\b/m)
    expect(makefile).toMatch(/^images:( tools)?\n\t@bash kind\/images\.sh$/m)
    const script = readFileSync(`${repoRoot()}/kind/images.sh`, 'utf8')
    expect(script).toContain('image_list')
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a bash array expansion, not a template
    expect(script).toContain('docker build -f "$ROOT/$dockerfile" "${build_args[@]}" -t "$image" "$ROOT"')
    expect(script).toContain('build_args+=(--build-arg "$arg")')
  })
})

describe('kind/cluster.yaml', () => {
  const config = parse(readFileSync(`${repoRoot()}/kind/cluster.yaml`, 'utf8')) as {
    kind: string
    apiVersion: string
    name: string
    nodes: {
      role: string
      extraPortMappings?: {
        containerPort: number
        hostPort: number
        listenAddress?: string
        protocol?: string
      }[]
    }[]
  }
  it('is a kind Cluster named minimesh', () => {
    expect(config.kind).toBe('Cluster')
    expect(config.apiVersion).toBe('kind.x-k8s.io/v1alpha4')
    expect(config.name).toBe(KIND_CLUSTER)
  })
  it('publishes the gateway node port on localhost:8080', () => {
    const cp = config.nodes.find((n) => n.role === 'control-plane')
    expect(cp?.extraPortMappings).toContainEqual({
      containerPort: GATEWAY_NODE_PORT,
      hostPort: GATEWAY_HOST_PORT,
      listenAddress: '127.0.0.1',
      protocol: 'TCP',
    })
  })
})

describe('prerequisites', () => {
  const ok = { ok: true, output: '', missing: false }
  const missing = (cmd: string) => ({ ok: false, output: `${cmd}: not found on PATH`, missing: true })
  it('says what to install for each missing tool', () => {
    expect(prerequisiteProblems(ok, ok)).toEqual([])
    const both = prerequisiteProblems(missing('docker'), missing('kind'))
    expect(both[0]).toMatch(/^docker is not installed: install Docker Engine/)
    expect(both[1]).toMatch(/^kind is not installed: install kind/)
    const daemon = prerequisiteProblems(
      {
        ok: false,
        output:
          'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?',
        missing: false,
      },
      ok,
    )
    expect(daemon[0]).toContain('`docker info` failed (Cannot connect to the Docker daemon')
    expect(daemon[0]).toContain('systemctl start docker')
  })
  it('on this machine: fails fast, naming what is missing (or passes where Docker and kind work)', async () => {
    const [docker, kind] = await Promise.all([runTool('docker', ['info']), runTool('kind', ['version'])])
    const err = await checkKindPrerequisites().catch((e: unknown) => e)
    if (docker.ok && kind.ok) {
      expect(err).toMatchObject({ kindVersion: expect.stringContaining('kind') })
      return
    }
    expect(err).toBeInstanceOf(InstallError)
    expect((err as InstallError).code).toBe('MESH_ERR_INSTALL_TOOL_MISSING')
    if (!kind.ok) expect((err as InstallError).message).toContain('kind is not installed')
    if (!docker.ok) expect((err as InstallError).message).toMatch(/docker/)
    expect((err as InstallError).message).toContain('pnpm e2e:local')
  })
})

describe('command output parsing', () => {
  it('parseKindClusters', () => {
    expect(parseKindClusters('kind\nminimesh\n')).toEqual(['kind', 'minimesh'])
    expect(parseKindClusters('No kind clusters found.\n')).toEqual([])
  })
  it('parseDockerPort', () => {
    expect(parseDockerPort('127.0.0.1:8080\n')).toEqual({ host: '127.0.0.1', port: 8080 })
    expect(parseDockerPort('[::1]:8080\n')).toEqual({ host: '::1', port: 8080 })
    expect(parseDockerPort('')).toBeUndefined()
  })
})

describe('nodeFetchArgv (the fetch the kind driver runs inside a pod)', () => {
  let server: ReturnType<typeof createServer>
  let base: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain' })
      res.end(`${req.url} end-user=${req.headers['end-user'] ?? '-'}`)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  async function run(argv: string[]) {
    const [, ...args] = argv
    return promisify(execFile)(process.execPath, args, { env: { PATH: process.env.PATH ?? '' } }).catch(
      (e: { code: number; stderr: string; stdout: string }) => e,
    )
  }

  it('prints status and body as JSON, sending the headers', async () => {
    const argv = nodeFetchArgv(`${base}/productpage`, { 'end-user': 'jason' })
    expect(argv[0]).toBe('node')
    const { stdout } = await run(argv)
    expect(parseNodeFetchOutput(stdout)).toEqual({ status: 200, body: '/productpage end-user=jason' })
    const missing = await run(nodeFetchArgv(`${base}/missing`))
    expect(parseNodeFetchOutput(missing.stdout).status).toBe(404)
  })
  it('exits non-zero with the reason when nothing answers', async () => {
    const closed = createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const res = (await run(nodeFetchArgv(`http://127.0.0.1:${port}/`))) as { code?: number; stderr: string }
    expect(res.code).toBe(7)
    expect(res.stderr).toContain('ECONNREFUSED')
  })
  it('parseNodeFetchOutput refuses anything else', () => {
    expect(() => parseNodeFetchOutput('oops')).toThrow(/printed no JSON/)
    expect(() => parseNodeFetchOutput('{"status":"200"}')).toThrow(InstallError)
  })
})

describe('kind/*.sh', () => {
  const dir = join(repoRoot(), 'kind')
  const scripts = readdirSync(dir).filter((f) => f.endsWith('.sh'))
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    promisify(execFile)('/bin/bash', args, { env, cwd: repoRoot() }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    )
  /** A bin directory with only what lib.sh needs before its first check, plus `extra` scripts. */
  function binDir(extra: Record<string, string> = {}): string {
    const bin = mkdtempSync(join(tmpdir(), 'kind-bin-'))
    for (const tool of ['dirname', 'grep', 'sed', 'awk', 'cat']) {
      const found = ['/usr/bin', '/bin']
        .map((d) => join(d, tool))
        .find((p) => {
          try {
            readFileSync(p)
            return true
          } catch {
            return false
          }
        })
      if (found) symlinkSync(found, join(bin, tool))
    }
    for (const [name, text] of Object.entries(extra)) {
      writeFileSync(join(bin, name), text)
      chmodSync(join(bin, name), 0o755)
    }
    return bin
  }

  it('parse (bash -n)', async () => {
    expect(scripts).toEqual(
      expect.arrayContaining(['available.sh', 'demo.sh', 'down.sh', 'images.sh', 'up.sh']),
    )
    for (const f of scripts) expect((await run(['-n', join(dir, f)], process.env)).code, f).toBe(0)
  })

  it.skipIf(!runToolSync('shellcheck'))(
    "pass shellcheck, with kube/'s scripts (make test installs shellcheck; skipped only where it is not installed)",
    async () => {
      const kube = join(repoRoot(), 'kube')
      const files = [
        ...scripts.map((f) => join(dir, f)),
        ...['cluster.sh', 'up.sh'].map((f) => join(kube, f)),
        ...readdirSync(join(kube, 'lib')).map((f) => join(kube, 'lib', f)),
      ]
      const res = await promisify(execFile)('shellcheck', ['-x', ...files], {
        cwd: repoRoot(),
      }).then(
        () => ({ code: 0, stdout: '' }),
        (e: { code: number; stdout: string }) => e,
      )
      expect(res.stdout).toBe('')
      expect(res.code).toBe(0)
    },
  )

  it('up.sh, and images.sh told to use Docker, stop at once without a Docker engine, saying what to do', async () => {
    // A FAKE docker client whose engine is down: the state of this machine, made explicit so the
    // test never touches a real Docker where one runs. (Without the choice, images.sh builds with
    // buildah instead: scripts/test-images.sh runs that path for real.)
    const bin = binDir({ docker: '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n' })
    for (const script of ['up.sh', 'images.sh']) {
      const res = await run([join(dir, script)], { PATH: bin, HOME: tmpdir(), MESH_IMAGE_BUILDER: 'docker' })
      expect(res.code, script).toBe(1)
      expect(res.stderr, script).toContain("no Docker engine answers ('docker info' failed)")
    }
    const none = await run([join(dir, 'up.sh')], { PATH: binDir(), HOME: tmpdir() })
    expect(none.stderr).toContain('docker is not installed: install Docker Engine')
    const avail = await run([join(dir, 'available.sh')], { PATH: binDir(), HOME: tmpdir() })
    expect(avail.code).toBe(1)
    expect(avail.stderr).toMatch(/not installed/)
  })

  it('demo.sh takes up or down only', async () => {
    const res = await run([join(dir, 'demo.sh'), 'sideways'], { PATH: binDir(), HOME: tmpdir() })
    expect(res.code).toBe(1)
    expect(res.stderr).toContain('usage: bash kind/demo.sh [up|down]')
  })
})

function runToolSync(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => {
    try {
      readFileSync(join(d, cmd))
      return true
    } catch {
      return false
    }
  })
}
