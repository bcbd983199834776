// minimesh's own rules for its Dockerfiles, on top of dockerfile-utils' validator.
// Parsing is dockerfile-ast's (the parser behind dockerfile-utils); the rules are ours:
//   pinned-base      every external base is name:<full version> (or a digest), never :latest
//   node-24-slim     the base is Node 24 slim (node:24.x.y-slim / -bookworm-slim / -trixie-slim)
//   multi-stage      two stages at least; the runtime stage takes its files from a build stage
//   pnpm-deploy      the build stage installs from the lockfile and copies the app with `pnpm deploy`
//   pnpm-version     the build stage installs the pnpm of package.json's packageManager (or uses corepack)
//   compiled-only    the runtime stage copies nothing from the context and never runs TS source
//   non-root         the runtime stage ends with USER <uid>[:<gid>], numeric (runAsNonRoot can check it), not 0
//   exec-form        ENTRYPOINT/CMD in JSON form, so SIGTERM reaches node (graceful shutdown)
//   apt-hygiene      apt-get install with --no-install-recommends, lists removed in the same RUN
import { DockerfileParser } from 'dockerfile-ast'
import { validate } from 'dockerfile-utils'

export interface Problem {
  rule: string
  line: number
  message: string
}

interface Step {
  keyword: string
  args: string
  line: number
}

interface Stage {
  name?: string
  from: string
  line: number
  steps: Step[]
}

function expand(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (m, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? m,
  )
}

export function stagesOf(content: string): { args: Record<string, string>; stages: Stage[] } {
  const doc = DockerfileParser.parse(content)
  const args: Record<string, string> = {}
  const stages: Stage[] = []
  for (const ins of doc.getInstructions()) {
    const keyword = ins.getKeyword().toUpperCase()
    // Flags (COPY --from=…) are not part of getArgumentsContent(): keep them in front.
    const flags =
      (ins as { getFlags?: () => { toString(): string }[] }).getFlags?.().map((f) => f.toString()) ?? []
    const text = [...flags, ins.getArgumentsContent() ?? ''].join(' ')
    const line = ins.getRange().start.line + 1
    if (keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(text)
      stages.push({ from: expand(m?.[1] ?? '', args), line, steps: [], ...(m?.[2] ? { name: m[2] } : {}) })
    } else if (stages.length === 0 && keyword === 'ARG') {
      const m = /^(\w+)(?:=(.*))?$/.exec(text.trim())
      if (m?.[1]) args[m[1]] = (m[2] ?? '').replace(/^"(.*)"$/, '$1')
    } else {
      stages
        .at(-1)
        ?.steps.push({ keyword, args: text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim(), line })
    }
  }
  return { args, stages }
}

/** dockerfile-utils' validator with every check on; each diagnostic becomes a problem. */
export function lint(content: string): Problem[] {
  return validate(content, {
    deprecatedMaintainer: 2,
    directiveCasing: 2,
    emptyContinuationLine: 2,
    instructionCasing: 2,
    instructionCmdMultiple: 2,
    instructionEntrypointMultiple: 2,
    instructionHealthcheckMultiple: 2,
    instructionJSONInSingleQuotes: 2,
    instructionWorkdirRelative: 2,
  }).map((d) => ({
    rule: `dockerfile-utils/${String(d.code)}`,
    line: d.range.start.line + 1,
    message: typeof d.message === 'string' ? d.message : d.message.value,
  }))
}

export function checkDockerfile(content: string, options: { pnpmVersion: string }): Problem[] {
  const problems: Problem[] = []
  const add = (rule: string, line: number, message: string) => problems.push({ rule, line, message })
  const { stages } = stagesOf(content)
  const names = new Set(stages.map((s) => s.name).filter(Boolean))
  for (const stage of stages) {
    if (names.has(stage.from)) continue
    const m = /^([^@:]+)(?::([^@]+))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(stage.from)
    if (!m) {
      add('pinned-base', stage.line, `cannot read the base image "${stage.from}"`)
      continue
    }
    const [, image, tag, digest] = m
    if (!digest && (!tag || tag === 'latest' || !/\d+\.\d+\.\d+/.test(tag))) {
      add(
        'pinned-base',
        stage.line,
        `base "${stage.from}" is not pinned to a full version (name:x.y.z-…) or a digest`,
      )
    }
    if (image !== 'node' || !/^24(\.\d+){0,2}-(bookworm-|trixie-)?slim$/.test(tag ?? '')) {
      add('node-24-slim', stage.line, `base "${stage.from}" is not Node 24 slim (node:24.x.y-bookworm-slim)`)
    }
  }
  if (stages.length < 2) add('multi-stage', 1, 'a single stage: build in one stage, run in a slim one')
  const runtime = stages.at(-1)
  const build = stages.length > 1 ? stages.slice(0, -1) : stages
  if (runtime) {
    const copies = runtime.steps.filter((s) => s.keyword === 'COPY' || s.keyword === 'ADD')
    const fromBuild = copies.filter((s) => names.has(/--from=(\S+)/.exec(s.args)?.[1]))
    if (stages.length >= 2 && fromBuild.length === 0) {
      add('multi-stage', runtime.line, 'the runtime stage copies nothing from a build stage')
    }
    for (const c of copies) {
      if (!/--from=/.test(c.args))
        add(
          'compiled-only',
          c.line,
          `the runtime stage copies from the build context: ${c.keyword} ${c.args}`,
        )
    }
    for (const s of runtime.steps) {
      if (/--conditions=@minimesh\/source|\bsrc\/main\.ts\b/.test(s.args)) {
        add('compiled-only', s.line, `the runtime stage runs TypeScript source: ${s.keyword} ${s.args}`)
      }
    }
    const user = runtime.steps.filter((s) => s.keyword === 'USER').at(-1)
    if (!user) add('non-root', runtime.line, 'the runtime stage sets no USER: it would run as root')
    else if (!/^[1-9]\d*(:\d+)?$/.test(user.args)) {
      add(
        'non-root',
        user.line,
        `USER ${user.args}: give a non-zero numeric uid (runAsNonRoot cannot check a name)`,
      )
    }
    const entry = runtime.steps.filter((s) => s.keyword === 'ENTRYPOINT' || s.keyword === 'CMD')
    if (entry.length === 0) add('exec-form', runtime.line, 'the runtime stage has no ENTRYPOINT or CMD')
    for (const e of entry)
      if (!e.args.startsWith('['))
        add('exec-form', e.line, `${e.keyword} ${e.args}: use the JSON (exec) form`)
  }
  const buildRuns = build.flatMap((s) => s.steps.filter((x) => x.keyword === 'RUN'))
  if (build.length > 0) {
    if (!buildRuns.some((r) => /\bpnpm\b.*\bdeploy\b/.test(r.args)))
      add('pnpm-deploy', build[0]!.line, 'no `pnpm … deploy` in the build stage')
    if (!buildRuns.some((r) => /\bpnpm\b.*\binstall\b.*--frozen-lockfile/.test(r.args))) {
      add('pnpm-deploy', build[0]!.line, 'no `pnpm install --frozen-lockfile` in the build stage')
    }
    // `corepack enable` runs the pnpm of package.json's packageManager: pinned by construction.
    const corepack = buildRuns.some((r) => /\bcorepack enable\b/.test(r.args))
    const pnpm = buildRuns.map((r) => /pnpm@(\d+\.\d+\.\d+)/.exec(r.args)?.[1]).find(Boolean)
    if (!corepack && pnpm !== options.pnpmVersion) {
      add(
        'pnpm-version',
        build[0]!.line,
        `installs pnpm ${pnpm ?? '(no pinned version)'}, package.json says ${options.pnpmVersion}`,
      )
    }
  }
  for (const s of stages.flatMap((st) => st.steps)) {
    if (s.keyword !== 'RUN' || !/apt-get install/.test(s.args)) continue
    if (!/--no-install-recommends/.test(s.args))
      add('apt-hygiene', s.line, 'apt-get install without --no-install-recommends')
    if (!/rm -rf \/var\/lib\/apt\/lists/.test(s.args))
      add('apt-hygiene', s.line, 'apt lists are not removed in the same RUN')
  }
  return problems
}
