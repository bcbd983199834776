import { describe, expect, expectTypeOf, it } from 'vitest'
import { MeshError } from '../coded-error.ts'
import { defineOptions, formatDuration, invalid, type OptionErrorDetail, portValue } from './options.ts'

class TestError extends MeshError<'MESH_ERR_TEST_BAD_FLAG'> {
  detail: OptionErrorDetail
  constructor(message: string, detail: OptionErrorDetail) {
    super('MESH_ERR_TEST_BAD_FLAG', message, { cause: detail.cause })
    this.detail = detail
  }
}

const options = defineOptions(
  {
    name: { type: 'string', short: 'n', help: 'a name', default: 'x' },
    verbose: { type: 'boolean', short: 'v', help: 'say more' },
    count: { type: 'integer', min: 1, max: 10, help: 'how many' },
    ratio: { type: 'number', min: 0, max: 100, default: 1, help: 'a percentage' },
    port: { type: 'port', default: 15000, help: 'a port' },
    'app-port': { type: 'port', min: 1, help: 'a port that is not 0' },
    timeout: { type: 'duration', bare: 's', default: 300_000, help: 'how long' },
    ttl: { type: 'duration', min: 1000, env: 'TEST_TTL', help: 'a lifetime' },
    level: { type: 'enum', values: ['info', 'debug'], default: 'info', help: 'log level' },
    file: { type: 'list', short: 'f', help: 'files' },
    ports: {
      type: 'list',
      item: portValue(1),
      separator: ',',
      repeatable: false,
      unique: true,
      all: '*',
      help: 'ports',
    },
    ids: { type: 'list', separator: ',', nonEmpty: true, repeatable: false, help: 'ids' },
    'port-map': {
      type: 'map',
      key: portValue(),
      value: portValue(),
      arg: 'FROM=TO',
      example: '15001=0',
      help: 'bind FROM at TO',
    },
    even: {
      type: 'custom',
      arg: 'EVEN',
      help: 'an even number',
      parse: (text) => (Number(text) % 2 === 0 ? Number(text) : invalid('not even')),
    },
  },
  {
    usage: 'Usage: tester [flags] ARGS',
    footer: 'The end.',
    allowPositionals: true,
    error: (message, detail) => new TestError(message, detail),
  },
)

function failure(argv: string[], env: Record<string, string> = {}): TestError {
  try {
    options.parse(argv, env)
  } catch (err) {
    expect(err).toBeInstanceOf(TestError)
    return err as TestError
  }
  throw new Error(`parsed: ${argv.join(' ')}`)
}

describe('defineOptions', () => {
  it('gives defaults, typed, when nothing is given', () => {
    const { values, positionals } = options.parse([])
    expect(values).toEqual({
      name: 'x',
      verbose: false,
      count: undefined,
      ratio: 1,
      port: 15000,
      'app-port': undefined,
      timeout: 300_000,
      ttl: undefined,
      level: 'info',
      file: [],
      ports: [],
      ids: [],
      'port-map': new Map(),
      even: undefined,
    })
    expect(positionals).toEqual([])
    expectTypeOf(values.name).toEqualTypeOf<string>()
    expectTypeOf(values.verbose).toEqualTypeOf<boolean>()
    expectTypeOf(values.count).toEqualTypeOf<number | undefined>()
    expectTypeOf(values.level).toEqualTypeOf<'info' | 'debug'>()
    expectTypeOf(values['port-map']).toEqualTypeOf<Map<number, number>>()
    expectTypeOf(values.file).toEqualTypeOf<readonly string[]>()
    expectTypeOf(values.ports).toEqualTypeOf<readonly number[] | string>()
    expectTypeOf(values.even).toEqualTypeOf<number | undefined>()
  })

  it('parses every type, long and short forms, = and positionals', () => {
    const { values, positionals } = options.parse([
      'first',
      '-n',
      'y',
      '-v',
      '--count=3',
      '--ratio',
      '2.5',
      '--port',
      '0',
      '--app-port',
      '8080',
      '--timeout',
      '90',
      '--ttl',
      '1h30m',
      '--level',
      'debug',
      '-f',
      'a.yaml',
      '-f',
      'b.yaml',
      '--ports',
      '80, 443,80',
      '--ids',
      '1,2',
      '--port-map',
      '15001=0',
      '--port-map',
      '8080=18080',
      '--even',
      '4',
      '--',
      '--last',
    ])
    expect(values).toEqual({
      name: 'y',
      verbose: true,
      count: 3,
      ratio: 2.5,
      port: 0,
      'app-port': 8080,
      timeout: 90_000,
      ttl: 5_400_000,
      level: 'debug',
      file: ['a.yaml', 'b.yaml'],
      ports: [80, 443],
      ids: ['1', '2'],
      'port-map': new Map([
        [15001, 0],
        [8080, 18080],
      ]),
      even: 4,
    })
    expect(positionals).toEqual(['first', '--last'])
    expect(options.parse(['--ratio', '1e-7']).values.ratio).toBe(1e-7)
    expect(options.parse(['--ratio', ' 5 ']).values.ratio).toBe(5)
    expect(options.parse(['--timeout', '5m']).values.timeout).toBe(300_000)
    expect(options.parse(['--ports', '*']).values.ports).toBe('*')
    expect(options.parse(['--ports', '']).values.ports).toEqual([])
    // Not repeatable: the last occurrence counts, as with a plain string flag.
    expect(options.parse(['--ports', '1', '--ports', '2']).values.ports).toEqual([2])
  })

  it('reads an option from its environment variable when the flag is absent', () => {
    expect(options.parse([], { TEST_TTL: '2h' }).values.ttl).toBe(7_200_000)
    expect(options.parse(['--ttl', '1s'], { TEST_TTL: '2h' }).values.ttl).toBe(1000)
    expect(options.parse([], { TEST_TTL: '' }).values.ttl).toBeUndefined()
  })

  it.each([
    [['--count', 'abc'], '--count abc: not a number'],
    [['--count', '1.5'], '--count 1.5: not an integer'],
    [['--count', '11'], '--count 11: must be between 1 and 10'],
    [['--ratio', '0x10'], '--ratio 0x10: not a number'],
    [['--ratio', ''], '--ratio "": not a number'],
    [['--ratio', 'Infinity'], '--ratio Infinity: not a number'],
    [['--ratio', '101'], '--ratio 101: must be between 0 and 100'],
    [['--port', '65536'], '--port 65536: not a port (0–65535)'],
    [['--port=-1'], '--port -1: not a port (0–65535)'],
    [['--app-port', '0'], '--app-port 0: not a port (1–65535)'],
    [['--timeout', 'soon'], '--timeout soon: not a duration (e.g. 90, 300s, 5m, 1h30m, 1500ms)'],
    [['--ttl', '90'], '--ttl 90: not a duration (e.g. 300s, 5m, 1h30m, 1500ms)'],
    [['--ttl', '500ms'], '--ttl 500ms: must be at least 1s'],
    [['--level', 'loud'], '--level loud: must be one of info, debug'],
    [['--ports', '80,http'], '--ports 80,http: http: not a port (1–65535)'],
    [['--ids', ' , '], '--ids " , ": needs at least one value'],
    [['--port-map', '8080'], '--port-map 8080: expected FROM=TO, e.g. 15001=0'],
    [['--port-map', '=0'], '--port-map =0: expected FROM=TO, e.g. 15001=0'],
    [['--port-map', 'x=0'], '--port-map x=0: x: not a port (0–65535)'],
    [['--port-map', '8080=y'], '--port-map 8080=y: y: not a port (0–65535)'],
    [['--even', '3'], '--even 3: not even'],
    [['-n'], "Option '-n, --name <value>' argument missing"],
    [['--nope'], "Unknown option '--nope'"],
  ])('%j fails: %s', (argv, message) => {
    const err = failure(argv)
    expect(err.code).toBe('MESH_ERR_TEST_BAD_FLAG')
    expect(err.message.startsWith(message)).toBe(true)
  })

  it('names the flag as written, or the environment variable, and keeps the value', () => {
    const short = failure(['-f', 'a', '--count', 'x'])
    expect(short.detail).toMatchObject({ flag: '--count', value: 'x' })
    const env = failure([], { TEST_TTL: 'forever' })
    expect(env.message).toBe('TEST_TTL=forever: not a duration (e.g. 300s, 5m, 1h30m, 1500ms)')
    expect(env.detail.flag).toBe('TEST_TTL')
  })

  it('rejects positionals unless allowed, and required options when missing', () => {
    const strict = defineOptions(
      { dir: { type: 'string', required: true, help: 'where' } },
      { usage: 'Usage: strict', error: (m, d) => new TestError(m, d) },
    )
    expect(() => strict.parse(['--dir', 'd', 'extra'])).toThrow(/Unexpected argument 'extra'/)
    expect(() => strict.parse([])).toThrow('--dir is required')
    expectTypeOf(strict.parse(['--dir', 'd']).values.dir).toEqualTypeOf<string>()
  })

  it('refuses a table with a bad short flag', () => {
    expect(() =>
      defineOptions(
        { x: { type: 'boolean', short: 'xy', help: '' } },
        { usage: '', error: (m) => new Error(m) },
      ),
    ).toThrow(/short must be one character/)
  })

  it('generates the usage from the table: placeholders, defaults, environment, wrapped help', () => {
    const text = options.usage()
    expect(text.startsWith('Usage: tester [flags] ARGS\n\nFlags:\n')).toBe(true)
    expect(text.endsWith('\n\nThe end.')).toBe(true)
    const line = (flag: string) => text.split('\n').find((l) => l.includes(flag))
    expect(line('--name')).toMatch(/^ {2}-n, --name VALUE +a name \(default x\)$/)
    expect(line('--verbose')).toMatch(/^ {2}-v, --verbose +say more$/)
    expect(line('--count')).toMatch(/^ {6}--count N +how many$/)
    expect(line('--timeout')).toMatch(/--timeout DURATION +how long \(default 300s\)$/)
    expect(line('--ttl')).toMatch(/a lifetime \(default \$TEST_TTL\)$/)
    expect(line('--level')).toMatch(/--level info\|debug +log level \(default info\)$/)
    expect(line('--ports')).toMatch(/--ports A,B +ports$/)
    expect(line('--port-map')).toMatch(/--port-map FROM=TO +bind FROM at TO$/)
    expect(line('--even')).toMatch(/--even EVEN +an even number$/)
    for (const l of text.split('\n')) expect(l.length).toBeLessThanOrEqual(100)
    const long = defineOptions(
      { a: { type: 'string', help: `${'word '.repeat(40)}end` } },
      { usage: 'u', error: (m) => new Error(m) },
    ).usage()
    expect(long.split('\n').length).toBeGreaterThan(4)
    expect(long.split('\n').at(-1)).toMatch(/^ +word.* end$/)
  })

  it('formats durations in the largest whole unit', () => {
    expect(formatDuration(300_000)).toBe('300s')
    expect(formatDuration(86_400_000)).toBe('24h')
    expect(formatDuration(1500)).toBe('1500ms')
    expect(formatDuration(0)).toBe('0s')
  })
})
