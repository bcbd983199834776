/** The cookie that holds the signed-in user's name, signed so that it cannot be forged. */
export const SESSION_COOKIE = 'session'

/**
 * A user name fit to be a header value and a routing key: surrounding space trimmed, 1–64
 * printable ASCII characters. Returns undefined for anything else (no one is signed in then).
 */
export function cleanUserName(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined
  const name = raw.trim()
  return /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/.test(name) ? name : undefined
}

/**
 * Where to go back to after signing in or out: the path of the Referer when it is one of ours
 * (a path on this host), else the product page. Never another site.
 */
export function backTo(referer: string | undefined, host: string | undefined): string {
  if (referer) {
    try {
      const url = new URL(referer)
      if (host && url.host === host && url.pathname.startsWith('/') && !url.pathname.startsWith('//')) {
        return `${url.pathname}${url.search}`
      }
    } catch {
      // not a URL: fall through
    }
  }
  return '/productpage'
}
