/**
 * Exact two-sided binomial test: the probability, if each trial succeeds with probability p, of an
 * outcome at least as unlikely as k successes in n trials (the sum of the probabilities of every
 * outcome no more likely than the observed one).
 */
export function binomialTestPValue(k: number, n: number, p: number): number {
  if (p <= 0) return k === 0 ? 1 : 0
  if (p >= 1) return k === n ? 1 : 0
  const logPmf = new Float64Array(n + 1)
  // log C(n, i) built incrementally: log C(n, i) = log C(n, i-1) + log(n-i+1) - log(i)
  let logC = 0
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i)
    logPmf[i] = logC + i * Math.log(p) + (n - i) * Math.log1p(-p)
  }
  const observed = logPmf[k]!
  const eps = 1e-7
  let total = 0
  for (let i = 0; i <= n; i++) if (logPmf[i]! <= observed + eps) total += Math.exp(logPmf[i]!)
  return Math.min(1, total)
}
