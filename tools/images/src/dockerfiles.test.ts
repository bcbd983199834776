// The images, checked without Docker: every Dockerfile of kind/images.txt passes dockerfile-utils'
// validator and our rules (dockerfile-rules.ts), the rules themselves catch what they claim to,
// and the meshd and proxy Dockerfiles are replayed on this host (replay-build.ts) to show their
// build stage makes what their runtime stage runs.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { readImagesList, repoRoot } from '@minimesh/cli'
import { describe, expect, it } from 'vitest'
import { checkDockerfile, lint } from './dockerfile-rules.ts'
import { replayBuild } from './replay-build.ts'

// @balena/dockerignore is CommonJS (`module.exports = factory`); its typings claim a default export.
const dockerignore = createRequire(import.meta.url)(
  '@balena/dockerignore',
) as typeof import('@balena/dockerignore').default

const root = repoRoot()
const pnpmVersion = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { packageManager: string }
).packageManager.split('@')[1]!
const images = readImagesList(root)
// A replay installs, compiles and (for the proxy) builds the native addon: about a minute on a quiet
// 2-core machine, over two minutes on a cold and loaded one.
const REPLAY_TIMEOUT_MS = 300_000

describe.each(images)('$image ($dockerfile)', ({ dockerfile }) => {
  const path = join(root, dockerfile)
  it('exists', () => {
    expect(existsSync(path), `${dockerfile} is missing`).toBe(true)
  })
  it.runIf(existsSync(path))("passes dockerfile-utils' validator and minimesh's rules", () => {
    const text = readFileSync(path, 'utf8')
    expect([...lint(text), ...checkDockerfile(text, { pnpmVersion })]).toEqual([])
  })
})

describe('the rules catch what they claim to', () => {
  const good = readFileSync(join(root, 'packages/control-plane/Dockerfile'), 'utf8')
  const rules = (text: string) => checkDockerfile(text, { pnpmVersion }).map((p) => p.rule)
  it('an unpinned or non-Node-24-slim base', () => {
    expect(rules(good.replace('node:24.21.0-bookworm-slim', 'node:24-bookworm-slim'))).toContain(
      'pinned-base',
    )
    expect(rules(good.replace('node:24.21.0-bookworm-slim', 'node:latest'))).toEqual(
      expect.arrayContaining(['pinned-base', 'node-24-slim']),
    )
    expect(rules(good.replace('node:24.21.0-bookworm-slim', 'node:22.1.0-bookworm-slim'))).toContain(
      'node-24-slim',
    )
  })
  it('root, a user name, or no USER in the runtime stage', () => {
    expect(rules(good.replace('USER 1000:1000', 'USER 0'))).toContain('non-root')
    expect(rules(good.replace('USER 1000:1000', 'USER node'))).toContain('non-root')
    expect(rules(good.replace('USER 1000:1000', ''))).toContain('non-root')
  })
  it('a single stage, source in the runtime stage, shell-form entrypoint', () => {
    expect(rules('ARG B=node:24.21.0-slim\nFROM $B\nCOPY . .\nUSER 1000\nENTRYPOINT ["node"]\n')).toEqual(
      expect.arrayContaining(['multi-stage', 'compiled-only', 'pnpm-deploy']),
    )
    expect(rules(`${good}\nCOPY . /app\n`)).toContain('compiled-only')
    expect(
      rules(good.replace('ENTRYPOINT ["meshd"]', 'CMD node --conditions=@minimesh/source src/main.ts')),
    ).toEqual(expect.arrayContaining(['compiled-only', 'exec-form']))
  })
  it('a different pnpm, no deploy, apt without cleanup', () => {
    expect(rules(good.replace(`pnpm@${pnpmVersion}`, 'pnpm@9.0.0'))).toContain('pnpm-version')
    expect(rules(good.replace('deploy --legacy --prod', 'run build --'))).toContain('pnpm-deploy')
    expect(
      rules(good.replace('ENV NODE_ENV=production', 'RUN apt-get update && apt-get install -y curl')),
    ).toEqual(expect.arrayContaining(['apt-hygiene']))
  })
  it("dockerfile-utils' validator reports errors", () => {
    expect(lint('FROM node:24.21.0-slim\nCOPY onlyone\nworkdir x\n').length).toBeGreaterThan(0)
  })
})

describe('.dockerignore', () => {
  const ig = dockerignore().add(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n'))
  it('keeps host builds out of the context and the sources and lockfile in', () => {
    for (const p of [
      'node_modules',
      'packages/proxy/node_modules',
      'packages/api/dist',
      'packages/proxy/build',
      '.git',
      '.tools',
    ]) {
      expect(ig.ignores(p), p).toBe(true)
    }
    for (const p of [
      'pnpm-lock.yaml',
      'package.json',
      'pnpm-workspace.yaml',
      'packages/proxy/binding.gyp',
      'packages/proxy/native/original_dst.cc',
      'packages/api/src/index.ts',
      'packages/api/proto',
      'e2e/package.json',
    ]) {
      expect(ig.ignores(p), p).toBe(false)
    }
  })
})

// The replays take 25-45 s each on 2 cores (pnpm install from the store, tsc, pnpm deploy), so
// they run in CI (CI=true, as `make test` there) or with MESH_TEST_IMAGE_REPLAY=1, not on every
// local `vitest run`.
const replayWanted = Boolean(process.env.CI) || process.env.MESH_TEST_IMAGE_REPLAY === '1'
const replay = (pkg: string) => replayWanted && existsSync(join(root, `packages/${pkg}/src/main.ts`))
const why = (pkg: string, title: string) =>
  replay(pkg)
    ? title
    : `${title} — skipped: ${replayWanted ? `packages/${pkg}/src/main.ts does not exist yet` : 'set MESH_TEST_IMAGE_REPLAY=1 (CI=true does) to run it'}`
const exec = promisify(execFile)
const { NODE_OPTIONS: _drop, ...plainEnv } = process.env

describe.concurrent('images replayed without Docker', () => {
  it.skipIf(!replay('control-plane'))(
    why(
      'control-plane',
      'minimesh/meshd: the runtime stage gets a meshd that runs from compiled dist/ as uid 1000',
    ),
    async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'replay-meshd-'))
      try {
        const r = await replayBuild(root, 'packages/control-plane/Dockerfile', tmp)
        expect(r.entrypoint).toEqual(['meshd'])
        expect(r.user).toBe('1000:1000')
        expect(readlinkSync(r.binary('meshd'))).toBe(join(r.rootfs, 'opt/minimesh/meshd/bin/meshd.js'))
        expect(existsSync(join(r.rootfs, 'opt/minimesh/meshd/dist/main.js'))).toBe(true)
        expect(existsSync(join(r.rootfs, 'opt/minimesh/meshd/src'))).toBe(false)
        const out = await exec(process.execPath, [r.binary('meshd'), '--help'], { env: plainEnv, cwd: tmp })
        expect(`${out.stdout}${out.stderr}`).toMatch(/meshd/)
      } finally {
        rmSync(tmp, { recursive: true, force: true })
      }
    },
    REPLAY_TIMEOUT_MS,
  )

  it.skipIf(!replay('proxy'))(
    why('proxy', 'minimesh/proxy: mesh-proxy and mesh-init run from compiled dist/, and the addon loads'),
    async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'replay-proxy-'))
      try {
        const r = await replayBuild(root, 'packages/proxy/Dockerfile', tmp)
        expect(r.entrypoint).toEqual(['mesh-proxy'])
        expect(r.user).toBe('1337:1337')
        for (const bin of ['mesh-proxy', 'mesh-init']) {
          const out = await exec(process.execPath, [r.binary(bin), '--help'], { env: plainEnv, cwd: tmp })
          expect(`${out.stdout}${out.stderr}`, bin).toMatch(/Usage|usage/)
        }
        const addon = join(r.rootfs, 'opt/minimesh/proxy/dist/native/original-dst.js')
        const probe = await exec(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const m = await import(${JSON.stringify(addon)}); console.log(typeof m.loadOriginalDstAddon().getOriginalDst)`,
          ],
          { env: plainEnv, cwd: tmp },
        )
        expect(probe.stdout.trim()).toBe('function')
      } finally {
        rmSync(tmp, { recursive: true, force: true })
      }
    },
    REPLAY_TIMEOUT_MS,
  )
})
