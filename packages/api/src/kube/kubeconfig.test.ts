import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { KubeConfigError, kubeConfigSource, loadKubeConfig } from './kubeconfig.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
  vi.unstubAllEnvs()
})

/** A kubeconfig with one context `name` (cluster and user of the same name) at `server`. */
function config(name: string, server: string, current: string | undefined = name): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters:\n- name: ${name}\n  cluster:\n    server: ${server}`,
    `users:\n- name: ${name}\n  user:\n    token: t-${name}`,
    `contexts:\n- name: ${name}\n  context:\n    cluster: ${name}\n    user: ${name}`,
    current ? `current-context: ${current}` : '',
    '',
  ].join('\n')
}

function file(path: string, text: string): string {
  const full = join(dir, path)
  mkdirSync(join(full, '..'), { recursive: true })
  writeFileSync(full, text)
  return full
}

/** A home with ~/.kube/config, a KUBECONFIG file and an explicit file, each its own context. */
function everywhere() {
  const home = join(dir, 'home')
  file('home/.kube/config', config('home', 'https://home.example:6443'))
  const env = file('env.yaml', config('env', 'https://env.example:6443'))
  const flag = file('flag.yaml', config('flag', 'https://flag.example:6443'))
  const root = join(dir, 'root')
  file('root/var/run/secrets/kubernetes.io/serviceaccount/token', 'sa-token')
  return { home, env, flag, root }
}

const context = (o: Parameters<typeof loadKubeConfig>[0]) => loadKubeConfig(o).kc.getCurrentContext()

describe('kubeconfig precedence (kubectl: --kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster)', () => {
  it('an explicit file wins over KUBECONFIG, ~/.kube/config and the service account', () => {
    const { home, env, flag, root } = everywhere()
    const pod = { KUBECONFIG: env, KUBERNETES_SERVICE_HOST: '10.96.0.1' }
    expect(kubeConfigSource({ kubeconfig: flag, env: pod, home, root })).toEqual({
      from: 'flag',
      files: [flag],
    })
    expect(context({ kubeconfig: flag, env: pod, home, root })).toBe('flag')
  })

  it('KUBECONFIG wins over ~/.kube/config and the service account', () => {
    const { home, env, root } = everywhere()
    const pod = { KUBECONFIG: env, KUBERNETES_SERVICE_HOST: '10.96.0.1' }
    expect(kubeConfigSource({ env: pod, home, root })).toEqual({ from: 'KUBECONFIG', files: [env] })
    expect(context({ env: pod, home, root })).toBe('env')
  })

  it('~/.kube/config wins over the service account (even in a pod)', () => {
    const { home, root } = everywhere()
    const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1' }
    expect(kubeConfigSource({ env: pod, home, root })).toEqual({
      from: 'home',
      files: [join(home, '.kube', 'config')],
    })
    expect(context({ env: pod, home, root })).toBe('home')
  })

  it('the service account when in a pod and there is no kubeconfig', () => {
    const { root } = everywhere()
    const home = join(dir, 'empty-home')
    vi.stubEnv('KUBERNETES_SERVICE_HOST', '10.96.0.1')
    vi.stubEnv('KUBERNETES_SERVICE_PORT', '443')
    const pod = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }
    expect(kubeConfigSource({ env: pod, home, root })).toEqual({ from: 'in-cluster' })
    const { kc } = loadKubeConfig({ env: pod, home, root })
    expect(kc.getCurrentCluster()?.server).toBe('https://10.96.0.1:443')
    // Not in a pod: KUBERNETES_SERVICE_HOST alone, or the token alone, is not enough.
    expect(kubeConfigSource({ env: {}, home, root })).toBeUndefined()
    expect(kubeConfigSource({ env: pod, home, root: join(dir, 'no-token') })).toBeUndefined()
  })

  it('KUBECONFIG files are merged, the first to set a name or the current context winning; missing ones are skipped', () => {
    const a = file('a.yaml', config('a', 'https://a.example'))
    const b = file('b.yaml', `${config('b', 'https://b.example')}`)
    // c redefines cluster "a" and sets its own current context: a's definitions and context win.
    const c = file(
      'c.yaml',
      config('a', 'https://shadowed.example', 'a').replace('current-context: a', 'current-context: b'),
    )
    const missing = join(dir, 'missing.yaml')
    const env = { KUBECONFIG: [missing, a, b, c].join(delimiter) }
    expect(kubeConfigSource({ env })).toEqual({ from: 'KUBECONFIG', files: [a, b, c] })
    const { kc } = loadKubeConfig({ env })
    expect(kc.getContexts().map((x) => x.name)).toEqual(['a', 'b'])
    expect(kc.getCurrentContext()).toBe('a')
    expect(kc.getCurrentCluster()?.server).toBe('https://a.example')
    expect(loadKubeConfig({ env, context: 'b' }).kc.getCurrentCluster()?.server).toBe('https://b.example')
  })

  it('a KUBECONFIG naming no file that exists does not fall back to ~/.kube/config', () => {
    const { home } = everywhere()
    const env = { KUBECONFIG: join(dir, 'missing.yaml') }
    expect(kubeConfigSource({ env, home })).toBeUndefined()
    expect(() => loadKubeConfig({ env, home })).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_KUBECONFIG_NONE',
        searched: `none of the files in KUBECONFIG (${env.KUBECONFIG}) exists`,
      }),
    )
  })
})

describe('loadKubeConfig errors', () => {
  it('NONE says what it looked for', () => {
    const home = join(dir, 'home')
    let err: unknown
    try {
      loadKubeConfig({ env: {}, home })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(KubeConfigError)
    expect(err).toMatchObject({
      code: 'MESH_ERR_KUBECONFIG_NONE',
      searched: `KUBECONFIG is not set and ${join(home, '.kube', 'config')} does not exist`,
    })
  })

  it('UNREADABLE names the file: an explicit file that does not exist, or one that is not a kubeconfig', () => {
    const missing = join(dir, 'nope.yaml')
    expect(() => loadKubeConfig({ kubeconfig: missing })).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_KUBECONFIG_UNREADABLE', file: missing }),
    )
    const bad = file('bad.yaml', 'clusters: [\n')
    expect(() => loadKubeConfig({ kubeconfig: bad })).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_KUBECONFIG_UNREADABLE', file: bad }),
    )
  })

  it('CONTEXT lists the contexts there are; NO_CLUSTER when the current context has no cluster', () => {
    const f = file('one.yaml', config('one', 'https://one.example'))
    expect(() => loadKubeConfig({ kubeconfig: f, context: 'two' })).toThrow(
      expect.objectContaining({
        code: 'MESH_ERR_KUBECONFIG_CONTEXT',
        contexts: ['one'],
        message: 'context "two" is not in the kubeconfig (it has: one)',
      }),
    )
    const none = file('none.yaml', config('one', 'https://one.example', 'elsewhere'))
    expect(() => loadKubeConfig({ kubeconfig: none })).toThrow(
      expect.objectContaining({ code: 'MESH_ERR_KUBECONFIG_NO_CLUSTER' }),
    )
  })
})
