// What the HTTP/1.1 parsers' fuzz tests share: a seeded generator (the same cases on every run),
// a message with random fields and a body framed by length or by chunks, cut points, and the
// bytes a mutation puts in.

/** Cuts `buf` at the given offsets. */
export function cut(buf: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = []
  let prev = 0
  for (const a of [...at].sort((x, y) => x - y)) {
    out.push(buf.subarray(prev, a))
    prev = a
  }
  out.push(buf.subarray(prev))
  return out
}

export interface Rng {
  /** 0 ≤ n < `below`. */
  int(below: number): number
  pick<T>(xs: readonly T[]): T
}

export function seeded(seed: number): Rng {
  let s = seed
  const int = (below: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    return s % below
  }
  return { int, pick: (xs) => xs[int(xs.length)]! }
}

/** Bytes a mutation writes: controls, separators, obs-text. */
const MUTATIONS = 'abcXYZ019 -_:;,\t\r\n\x00\x7f\xff'

/** A message after `startLine`: up to 5 random fields and a body of up to 39 letters, by length or chunks. */
export function framedMessage(rng: Rng, startLine: string): { raw: string; body: string } {
  const body = Array.from({ length: rng.int(40) }, () => String.fromCharCode(97 + rng.int(26))).join('')
  const fields = Array.from(
    { length: rng.int(6) },
    (_, i) => `X-F${i}: ${rng.pick(['v', 'a b', '\xe9', ''])}`,
  )
  let raw = `${startLine}\r\n${fields.map((f) => `${f}\r\n`).join('')}`
  if (rng.int(2) === 0) {
    raw += 'Transfer-Encoding: chunked\r\n\r\n'
    let i = 0
    while (i < body.length) {
      const len = 1 + rng.int(body.length - i)
      raw += `${len.toString(16)}\r\n${body.slice(i, i + len)}\r\n`
      i += len
    }
    raw += '0\r\n\r\n'
  } else raw += `Content-Length: ${body.length}\r\n\r\n${body}`
  return { raw, body }
}

/** Up to `cuts` random cut points of `buf`, and a copy of it with 1–3 bytes changed. */
export function cutsAndMutation(rng: Rng, buf: Buffer, cuts: number): { at: number[]; mutated: Buffer } {
  const at = Array.from({ length: rng.int(cuts + 1) }, () => rng.int(buf.length + 1))
  const mutated = Buffer.from(buf)
  for (let k = 0; k <= rng.int(3); k++)
    mutated[rng.int(mutated.length)] = MUTATIONS.charCodeAt(rng.int(MUTATIONS.length))
  return { at, mutated }
}
