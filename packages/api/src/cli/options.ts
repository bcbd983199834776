// One option table per binary: each flag declared once (name, type, default, help) and from that
// table the parsed, typed and checked values, the usage text, and errors that name the flag and
// the bad value, thrown as the binary's own coded error. node:util parseArgs does the tokenizing
// (long and short forms, `--flag=value`, `--`, unknown flags); the table adds the types.
// Imports only node:util and the duration grammar, so a binary pays nothing for it at start
// (`@minimesh/api/options`).
import { type ParseArgsOptionDescriptor, parseArgs } from 'node:util'
import { parseDuration } from '../schema/duration.ts'

/** Thrown by a value parser with the reason only; the table adds the flag and the value. */
export class OptionValueError extends Error {}

/** Rejects a value: `reason` completes "`--flag value`: …" (e.g. `not a port (0–65535)`). */
export function invalid(reason: string): never {
  throw new OptionValueError(reason)
}

/** Turns one value's text into its typed value, or throws through invalid(). */
export type ValueParser<T> = (text: string) => T

// ---- value parsers (the types of scalar options, and the items of lists and maps) ----

function range(n: number, min: number | undefined, max: number | undefined): number {
  if (min !== undefined && max !== undefined && (n < min || n > max))
    invalid(`must be between ${min} and ${max}`)
  if (min !== undefined && n < min) invalid(`must be at least ${min}`)
  if (max !== undefined && n > max) invalid(`must be at most ${max}`)
  return n
}

/** A decimal number (`1.5`, `-2`, `100`, `1e-7` as String(n) writes it); no hex, no Infinity, no empty text. */
export function numberValue(min?: number, max?: number): ValueParser<number> {
  return (text) => {
    if (!/^-?(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(text.trim())) invalid('not a number')
    return range(Number(text), min, max)
  }
}

/** A whole decimal number. */
export function integerValue(min?: number, max?: number): ValueParser<number> {
  return (text) => {
    if (!/^-?\d+$/.test(text.trim()))
      invalid(/^-?[\d.]+$/.test(text.trim()) ? 'not an integer' : 'not a number')
    return range(Number(text), min, max)
  }
}

/** A TCP port; 0 (any free port) unless `min` is 1. */
export function portValue(min: 0 | 1 = 0): ValueParser<number> {
  return (text) => {
    const t = text.trim()
    const n = Number(t)
    if (!/^\d+$/.test(t) || n < min || n > 65535) invalid(`not a port (${min}–65535)`)
    return n
  }
}

/**
 * A duration in milliseconds: Istio's grammar (`300s`, `5m`, `1h30m`, `1500ms`), and with `bare` a
 * plain number too, in that unit (`--timeout 90` = 90 s). `min` in milliseconds.
 */
export function durationValue(bare?: 'ms' | 's', min?: number): ValueParser<number> {
  return (text) => {
    const t = text.trim()
    const ms = bare && /^\d+(\.\d+)?$/.test(t) ? Number(t) * (bare === 's' ? 1000 : 1) : parseDuration(t)
    if (ms === undefined)
      invalid(`not a duration (e.g. ${bare === 's' ? '90, ' : ''}300s, 5m, 1h30m, 1500ms)`)
    if (min !== undefined && ms < min) invalid(`must be at least ${formatDuration(min)}`)
    return ms
  }
}

/** One of `values`, exactly. */
export function enumValue<const V extends string>(values: readonly V[]): ValueParser<V> {
  return (text) => {
    if (!(values as readonly string[]).includes(text)) invalid(`must be one of ${values.join(', ')}`)
    return text as V
  }
}

/** Any text. */
export const stringValue: ValueParser<string> = (text) => text

/** `300000` → `300s`, `86400000` → `24h`: the largest of h, s, ms that divides it. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

// ---- the table ----

interface Common {
  /** One letter: `-n` for `--namespace`. */
  short?: string
  /** What the flag does, for the usage text (wrapped; the default is appended). */
  help: string
  /** The value's placeholder in the usage text (`HOST:PORT`); each type has its own otherwise. */
  arg?: string
  /** An environment variable read when the flag is not given (before the default). */
  env?: string
  /** The default as the usage text shows it, where the value alone would not say it well. */
  defaultText?: string
  /** Left out of the usage text. */
  hidden?: boolean
}

export interface StringOption extends Common {
  type: 'string'
  default?: string
  required?: boolean
}
/** Present or not; never undefined (false when absent). */
export interface BooleanOption extends Omit<Common, 'arg' | 'env' | 'defaultText'> {
  type: 'boolean'
}
export interface IntegerOption extends Common {
  type: 'integer'
  min?: number
  max?: number
  default?: number
  required?: boolean
}
export interface NumberOption extends Common {
  type: 'number'
  min?: number
  max?: number
  default?: number
  required?: boolean
}
export interface PortOption extends Common {
  type: 'port'
  /** 0 (default): port 0, any free port, is allowed; 1: it is not. */
  min?: 0 | 1
  default?: number
  required?: boolean
}
/** Its value is in milliseconds. */
export interface DurationOption extends Common {
  type: 'duration'
  /** A plain number is accepted, in this unit. */
  bare?: 'ms' | 's'
  /** Shortest accepted, in milliseconds. */
  min?: number
  /** In milliseconds. */
  default?: number
  required?: boolean
}
export interface EnumOption<V extends string = string> extends Common {
  type: 'enum'
  values: readonly V[]
  default?: V
  required?: boolean
}
/** A value of a type the table does not know (a CIDR, a label set): `parse` checks it. */
export interface CustomOption<T = unknown> extends Common {
  type: 'custom'
  parse: ValueParser<T>
  default?: T
  required?: boolean
}
/**
 * Several values: the flag repeated (`-f a -f b`), each occurrence split at `separator` if given
 * (`-b 80,443`); [] when absent. Not `repeatable`: the last occurrence alone counts.
 */
export interface ListOption<T = unknown> extends Common {
  type: 'list'
  item?: ValueParser<T>
  separator?: string
  repeatable?: boolean
  /** Drop repeated items (first one kept). */
  unique?: boolean
  /** This text (e.g. `*`) stands for "all": the value is then the text itself. */
  all?: string
  /** At least one item when given. */
  nonEmpty?: boolean
  default?: readonly T[] | string
}
/** `KEY=VALUE` pairs, the flag repeated; a later pair with the same key wins. */
export interface MapOption<K = unknown, V = unknown> extends Common {
  type: 'map'
  key?: ValueParser<K>
  value?: ValueParser<V>
  /** A well-formed pair, for the error message (`15001=0`). */
  example: string
}

export type OptionSpec =
  | StringOption
  | BooleanOption
  | IntegerOption
  | NumberOption
  | PortOption
  | DurationOption
  | EnumOption
  | CustomOption
  | ListOption
  | MapOption

export type OptionTable = Readonly<Record<string, OptionSpec>>

/** The value type of one option. */
export type OptionValue<S extends OptionSpec> = S extends BooleanOption
  ? boolean
  : S extends ListOption<infer T>
    ? S extends { all: string }
      ? readonly Item<T>[] | string
      : readonly Item<T>[]
    : S extends MapOption<infer K, infer V>
      ? Map<Item<K>, Item<V>>
      : S extends { default: unknown } | { required: true }
        ? Scalar<S>
        : Scalar<S> | undefined

/** An item without a parser is text. */
type Item<T> = unknown extends T ? string : T

type Scalar<S> = S extends StringOption
  ? string
  : S extends IntegerOption | NumberOption | PortOption | DurationOption
    ? number
    : S extends EnumOption<infer V>
      ? V
      : S extends CustomOption<infer T>
        ? T
        : never

export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: OptionValue<T[K]> }

export interface ParsedOptions<T extends OptionTable> {
  values: OptionValues<T>
  positionals: string[]
}

/** What an error factory learns besides the message. */
export interface OptionErrorDetail {
  /** The flag as it was written (`-p`, `--proxy-port`) or the environment variable. */
  flag?: string
  value?: string
  cause?: unknown
}

export interface OptionsSettings {
  /** The binary's coded error (MeshError subclass) for a wrong command line. */
  error: (message: string, detail: OptionErrorDetail) => Error
  /** The lines above the flags (synopsis, description). */
  usage: string
  /** The lines below the flags. */
  footer?: string
  /** Heading of the flag list; default `Flags:`. */
  heading?: string
  allowPositionals?: boolean
}

export interface Options<T extends OptionTable> {
  readonly table: T
  /** argv without node and the script; `env` is read for options that name a variable. */
  parse(argv: readonly string[], env?: Readonly<Record<string, string | undefined>>): ParsedOptions<T>
  /** The usage text: the settings' usage, the flags from the table, the footer. */
  usage(): string
}

function placeholder(spec: OptionSpec): string {
  if (spec.type === 'boolean') return ''
  if (spec.arg !== undefined) return spec.arg
  switch (spec.type) {
    case 'integer':
    case 'number':
      return 'N'
    case 'port':
      return 'PORT'
    case 'duration':
      return 'DURATION'
    case 'enum':
      return spec.values.join('|')
    case 'map':
      return 'KEY=VALUE'
    case 'list':
      return spec.separator ? `A${spec.separator}B` : 'VALUE'
    default:
      return 'VALUE'
  }
}

function shownDefault(spec: OptionSpec): string | undefined {
  if (spec.type === 'boolean') return undefined
  const value =
    spec.defaultText ??
    (!('default' in spec) || spec.default === undefined
      ? undefined
      : spec.type === 'duration'
        ? formatDuration(spec.default)
        : Array.isArray(spec.default)
          ? spec.default.join(spec.type === 'list' ? (spec.separator ?? ',') : ',')
          : String(spec.default))
  if (spec.env) return value !== undefined ? `$${spec.env}, else ${value}` : `$${spec.env}`
  return value
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  for (const paragraph of text.split('\n')) {
    let line = ''
    for (const word of paragraph.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line)
        line = word
      } else line = line ? `${line} ${word}` : word
    }
    lines.push(line)
  }
  return lines
}

/** The flag lines of a usage text, one option each, help wrapped at 100 columns. */
export function formatOptions(table: OptionTable): string {
  const rows = Object.entries(table)
    .filter(([, spec]) => !spec.hidden)
    .map(([name, spec]) => {
      const arg = placeholder(spec)
      const left = `  ${spec.short ? `-${spec.short}, ` : '    '}--${name}${arg ? ` ${arg}` : ''}`
      const def = shownDefault(spec)
      return { left, help: def !== undefined ? `${spec.help} (default ${def})` : spec.help }
    })
  const column = Math.min(34, Math.max(...rows.map((r) => r.left.length)) + 2)
  return rows
    .flatMap(({ left, help }) => {
      const text = wrap(help, 100 - column)
      const first = left.length + 2 <= column ? `${left.padEnd(column)}${text.shift()}` : left
      return [first, ...text.map((l) => `${' '.repeat(column)}${l}`)]
    })
    .join('\n')
}

function scalarParser(spec: OptionSpec): ValueParser<unknown> {
  switch (spec.type) {
    case 'string':
      return stringValue
    case 'integer':
      return integerValue(spec.min, spec.max)
    case 'number':
      return numberValue(spec.min, spec.max)
    case 'port':
      return portValue(spec.min)
    case 'duration':
      return durationValue(spec.bare, spec.min)
    case 'enum':
      return enumValue(spec.values)
    case 'custom':
      return spec.parse
    default:
      throw new TypeError(`option type ${spec.type} is not a scalar`)
  }
}

function shown(text: string): string {
  return text === '' || /\s/.test(text) ? JSON.stringify(text) : text
}

/** Declares a binary's (or a command's) options. */
export function defineOptions<const T extends OptionTable>(table: T, settings: OptionsSettings): Options<T> {
  for (const [name, spec] of Object.entries(table)) {
    if (spec.short !== undefined && spec.short.length !== 1)
      throw new TypeError(`option --${name}: short must be one character, not ${spec.short}`)
  }
  const nodeOptions: Record<string, ParseArgsOptionDescriptor> = {}
  for (const [name, spec] of Object.entries(table))
    nodeOptions[name] = {
      type: spec.type === 'boolean' ? 'boolean' : 'string',
      ...(spec.short ? { short: spec.short } : {}),
      ...((spec.type === 'list' && spec.repeatable !== false) || spec.type === 'map'
        ? { multiple: true }
        : {}),
    }

  const parse: Options<T>['parse'] = (argv, env = {}) => {
    let parsed: ReturnType<typeof parseArgs>
    try {
      parsed = parseArgs({
        args: [...argv],
        options: nodeOptions,
        allowPositionals: settings.allowPositionals ?? false,
        strict: true,
        tokens: true,
      })
    } catch (cause) {
      throw settings.error((cause as Error).message, { cause })
    }
    // The flag as the user wrote it (`-p` or `--proxy-port`), for messages.
    const written = new Map<string, string>()
    for (const t of parsed.tokens ?? []) if (t.kind === 'option') written.set(t.name, t.rawName)
    const values: Record<string, unknown> = {}
    for (const [name, spec] of Object.entries(table)) {
      const raw = parsed.values[name]
      let flag = written.get(name) ?? `--${name}`
      const fail = (value: string, reason: string, cause?: unknown): never => {
        const where = flag.startsWith('-') ? `${flag} ${shown(value)}` : `${flag}=${shown(value)}`
        throw settings.error(`${where}: ${reason}`, { flag, value, cause })
      }
      const run = <V>(parser: ValueParser<V>, text: string, whole = text): V => {
        try {
          return parser(text)
        } catch (cause) {
          if (!(cause instanceof OptionValueError)) throw cause
          return fail(
            whole,
            text === whole.trim() ? cause.message : `${shown(text)}: ${cause.message}`,
            cause,
          )
        }
      }
      if (spec.type === 'boolean') {
        values[name] = raw === true
        continue
      }
      let texts = raw === undefined ? [] : Array.isArray(raw) ? (raw as string[]) : [raw as string]
      if (texts.length === 0 && spec.env !== undefined) {
        const fromEnv = env[spec.env]
        if (fromEnv !== undefined && fromEnv !== '') {
          texts = [fromEnv]
          flag = spec.env
        }
      }
      if (spec.type === 'map') {
        const map = new Map<unknown, unknown>()
        for (const text of texts) {
          const eq = text.indexOf('=')
          if (eq <= 0) fail(text, `expected ${placeholder(spec)}, e.g. ${spec.example}`)
          map.set(
            run(spec.key ?? stringValue, text.slice(0, eq), text),
            run(spec.value ?? stringValue, text.slice(eq + 1), text),
          )
        }
        values[name] = map
        continue
      }
      if (spec.type === 'list') {
        if (texts.length === 0) {
          values[name] = spec.default ?? []
          continue
        }
        if (spec.all !== undefined && texts.length === 1 && texts[0]!.trim() === spec.all) {
          values[name] = spec.all
          continue
        }
        const items: unknown[] = []
        for (const text of texts) {
          const parts = spec.separator
            ? text
                .split(spec.separator)
                .map((s) => s.trim())
                .filter((s) => s !== '')
            : [text]
          for (const part of parts) {
            const item = run(spec.item ?? stringValue, part, text)
            if (!spec.unique || !items.includes(item)) items.push(item)
          }
        }
        if (spec.nonEmpty && items.length === 0) fail(texts.join(' '), 'needs at least one value')
        values[name] = items
        continue
      }
      const text = texts.at(-1)
      if (text === undefined) {
        if (spec.required) throw settings.error(`${flag} is required`, { flag })
        values[name] = spec.default
        continue
      }
      values[name] = run(scalarParser(spec), text)
    }
    return { values: values as OptionValues<T>, positionals: parsed.positionals }
  }

  const usage = () =>
    `${settings.usage}\n\n${settings.heading ?? 'Flags:'}\n${formatOptions(table)}${settings.footer ? `\n\n${settings.footer}` : ''}`

  return { table, parse, usage }
}
