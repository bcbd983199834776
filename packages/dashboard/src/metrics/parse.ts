// The Prometheus text exposition format (what /stats/prometheus and /metrics serve), read into
// samples. Only what the dashboard needs: names, labels, values; comments and timestamps skipped.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const UNESCAPE: Record<string, string> = { n: '\n', '\\': '\\', '"': '"' }

/** Parses exposition text; `only` keeps just the samples whose name passes (cheaper for big pages). */
export function parsePrometheusText(text: string, only?: (name: string) => boolean): Sample[] {
  const out: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const brace = line.indexOf('{')
    const space = line.indexOf(' ')
    const nameEnd = brace !== -1 && (space === -1 || brace < space) ? brace : space
    if (nameEnd <= 0) continue
    const name = line.slice(0, nameEnd)
    if (only && !only(name)) continue
    const labels: Record<string, string> = {}
    let i = nameEnd
    if (line[i] === '{') {
      i++
      while (i < line.length && line[i] !== '}') {
        const eq = line.indexOf('=', i)
        if (eq === -1 || line[eq + 1] !== '"') break
        const key = line.slice(i, eq).trim()
        let j = eq + 2
        let value = ''
        while (j < line.length && line[j] !== '"') {
          if (line[j] === '\\' && j + 1 < line.length) {
            value += UNESCAPE[line[j + 1]!] ?? line[j + 1]
            j += 2
          } else value += line[j++]
        }
        labels[key] = value
        i = j + 1
        if (line[i] === ',') i++
      }
      i++
    }
    const rest = line.slice(i).trim().split(/\s+/)[0] ?? ''
    const value = parseValue(rest)
    if (value === undefined) continue
    out.push({ name, labels, value })
  }
  return out
}

function parseValue(s: string): number | undefined {
  if (s === '+Inf') return Number.POSITIVE_INFINITY
  if (s === '-Inf') return Number.NEGATIVE_INFINITY
  if (s === 'NaN') return Number.NaN
  const n = Number(s)
  return s === '' || Number.isNaN(n) ? undefined : n
}
