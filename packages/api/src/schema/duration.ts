const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000001,
}
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|us|µs|ns|h|m|s)/y

/**
 * Parses an Istio (protobuf/Go style) duration into milliseconds: one or more `<number><unit>` parts
 * with units h, m, s, ms, us (µs), ns ("7s", "0.5s", "100ms", "1m", "1h30m"), or a bare "0".
 * Undefined when it is not one (negative, no unit, empty, unknown unit).
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0
  if (text.length === 0) return undefined
  PART.lastIndex = 0
  let total = 0
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text)
    if (!m) return undefined
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? Number.NaN)
  }
  return Number.isFinite(total) ? total : undefined
}

/** Like parseDuration, for text already validated; throws if it is not a duration. */
export function durationMs(text: string): number {
  const ms = parseDuration(text)
  if (ms === undefined) throw new TypeError(`not a duration: ${JSON.stringify(text)}`)
  return ms
}

/** The OpenAPI pattern equivalent of parseDuration (for the CRD schema). */
export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(h|m|s|ms|us|µs|ns))+)$'
