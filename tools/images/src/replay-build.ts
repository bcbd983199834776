// Replays a Dockerfile on this host, without Docker (none runs here), to check that
// its build stage really produces the files its runtime stage copies and that those files run
// as the image would run them (compiled dist/, no source condition).
//
// What is replayed: the build context as .dockerignore filters it (@balena/dockerignore, Docker's
// matching rules); per stage WORKDIR, ENV, COPY from the context and every RUN, with the stage's
// absolute WORKDIR paths mapped into a temporary directory; in the runtime stage, COPY --from and
// the `ln -s` of RUN lines, into a temporary root filesystem. What is not: RUN lines that
// provision the operating system (apt-get, global npm installs, users) and the base image itself;
// the host's Node 24 and pnpm stand in for the image's. So this proves the build steps and paths,
// not the image's OS layer.
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { promisify } from 'node:util'
import { stagesOf } from './dockerfile-rules.ts'

// @balena/dockerignore is CommonJS (`module.exports = factory`); its typings claim a default export.
const dockerignore = createRequire(import.meta.url)(
  '@balena/dockerignore',
) as typeof import('@balena/dockerignore').default

const run = promisify(execFile)

/** Copies the build context (root minus .dockerignore) into dest. */
function copyContext(root: string, dest: string): number {
  const rules = existsSync(join(root, '.dockerignore'))
    ? readFileSync(join(root, '.dockerignore'), 'utf8')
    : ''
  const ig = dockerignore({ ignorecase: false }).add(rules.split('\n'))
  let files = 0
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name)
      const rel = relative(root, abs)
      if (ig.ignores(rel)) continue
      if (entry.isDirectory()) walk(abs)
      else {
        mkdirSync(dirname(join(dest, rel)), { recursive: true })
        cpSync(abs, join(dest, rel), { verbatimSymlinks: true })
        files++
      }
    }
  }
  walk(root)
  return files
}

/** RUN lines that set up the OS, not the app: the host has its own. */
const PROVISIONING = /^(apt-get|npm install --global|npm install -g|corepack|groupadd|useradd)\b/

export interface Replay {
  rootfs: string
  entrypoint: string[]
  user?: string
  /** The host path of a binary on the image's PATH (/usr/local/bin), following its symlink. */
  binary(name: string): string
  log: string[]
}

function jsonArgs(text: string): string[] {
  return JSON.parse(text) as string[]
}

export async function replayBuild(root: string, dockerfile: string, tmp: string): Promise<Replay> {
  const log: string[] = []
  const context = join(tmp, 'context')
  log.push(`context: ${copyContext(root, context)} files`)
  const { stages } = stagesOf(readFileSync(join(root, dockerfile), 'utf8'))
  const hostNodePrefix = dirname(dirname(process.execPath))
  const stageRoots = new Map<string, string>()
  for (const [i, stage] of stages.slice(0, -1).entries()) {
    const fsRoot = join(tmp, `stage-${i}`)
    if (stage.name) stageRoots.set(stage.name, fsRoot)
    let workdir = '/'
    const env: Record<string, string> = {}
    const mapPaths = (text: string) =>
      workdir === '/'
        ? text
        : text.replace(new RegExp(`(^|[\\s='":])${workdir}(?=/|\\s|$)`, 'g'), `$1${fsRoot}${workdir}`)
    for (const step of stage.steps) {
      const cwd = join(fsRoot, workdir)
      if (step.keyword === 'WORKDIR') {
        workdir = step.args.startsWith('/') ? step.args : join(workdir, step.args)
        mkdirSync(join(fsRoot, workdir), { recursive: true })
      } else if (step.keyword === 'ENV') {
        for (const m of step.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) {
          const value = m[2]!.replace(/^"|"$/g, '')
          // node-gyp's headers: the image's Node prefix is /usr/local; here it is the host Node's.
          env[m[1]!] = m[1] === 'npm_config_nodedir' ? hostNodePrefix : value
        }
      } else if (step.keyword === 'COPY' && !/--from=/.test(step.args)) {
        const parts = step.args.split(' ')
        const dest = parts.pop()!
        const target = dest.startsWith('/') ? join(fsRoot, dest) : join(cwd, dest)
        for (const src of parts) {
          if (src === '.') cpSync(context, target, { recursive: true, verbatimSymlinks: true })
          else {
            mkdirSync(target, { recursive: true })
            cpSync(join(context, src), join(target, src.split('/').pop()!), { recursive: true })
          }
        }
      } else if (step.keyword === 'RUN') {
        if (PROVISIONING.test(step.args)) {
          log.push(`skipped (OS provisioning): RUN ${step.args}`)
          continue
        }
        const t0 = Date.now()
        const { NODE_OPTIONS: _drop, ...hostEnv } = process.env
        await run('bash', ['-euo', 'pipefail', '-c', mapPaths(step.args)], {
          cwd,
          // The host's Node and the checkout's pnpm stand in for the image's.
          env: {
            ...hostEnv,
            PATH: `${dirname(process.execPath)}:${join(root, '.tools/pnpm/bin')}:${hostEnv.PATH ?? ''}`,
            ...env,
          },
          maxBuffer: 64 << 20,
        }).catch((err: { stderr?: string; stdout?: string; message: string }) => {
          throw new Error(
            `replay of ${dockerfile} line ${step.line} failed: RUN ${step.args}\n${err.stderr || err.stdout || err.message}`,
          )
        })
        log.push(`RUN ${step.args} (${Date.now() - t0} ms)`)
      }
    }
  }
  const runtime = stages.at(-1)!
  const rootfs = join(tmp, 'rootfs')
  let entrypoint: string[] = []
  let user: string | undefined
  for (const step of runtime.steps) {
    if (step.keyword === 'COPY') {
      const from = /--from=(\S+)/.exec(step.args)?.[1]
      const [src, dest] = step.args.replace(/--\S+\s*/g, '').split(' ')
      const stageRoot = from ? stageRoots.get(from) : undefined
      if (!stageRoot || !src || !dest)
        throw new Error(`replay of ${dockerfile}: cannot follow COPY ${step.args}`)
      const source = join(stageRoot, src)
      if (!existsSync(source))
        throw new Error(`replay of ${dockerfile} line ${step.line}: the build stage made no ${src}`)
      mkdirSync(dirname(join(rootfs, dest)), { recursive: true })
      cpSync(source, join(rootfs, dest), { recursive: true, verbatimSymlinks: true })
    } else if (step.keyword === 'RUN') {
      for (const m of step.args.matchAll(/\bln -s (\S+) (\S+)/g)) {
        mkdirSync(dirname(join(rootfs, m[2]!)), { recursive: true })
        symlinkSync(join(rootfs, m[1]!), join(rootfs, m[2]!))
      }
    } else if (step.keyword === 'ENTRYPOINT') entrypoint = jsonArgs(step.args)
    else if (step.keyword === 'USER') user = step.args
  }
  return {
    rootfs,
    entrypoint,
    ...(user ? { user } : {}),
    binary: (name) => join(rootfs, 'usr/local/bin', name),
    log,
  }
}
