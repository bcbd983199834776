// Quantiles from Prometheus histogram buckets, computed the way PromQL's histogram_quantile does:
// buckets sorted by upper bound, cumulative counts (or rates), linear interpolation inside the
// bucket where the rank falls, the lower bound of the first bucket taken as 0.

export interface Bucket {
  le: number
  /** Cumulative: requests (or requests per second) that took at most `le`. */
  value: number
}

/** The q-quantile (0..1) of a histogram, or undefined when it holds nothing. */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a.le - b.le)
  const inf = sorted.at(-1)
  if (!inf || inf.le !== Number.POSITIVE_INFINITY || !(inf.value > 0)) return undefined
  const rank = q * inf.value
  let prevLe = 0
  let prevValue = 0
  for (const b of sorted) {
    if (b.value >= rank) {
      // Rank in the +Inf bucket: the highest finite bound is the answer (as PromQL).
      if (b.le === Number.POSITIVE_INFINITY) return prevLe
      const width = b.value - prevValue
      if (width <= 0) return b.le
      return prevLe + (b.le - prevLe) * ((rank - prevValue) / width)
    }
    prevLe = b.le
    prevValue = b.value
  }
  return prevLe
}
