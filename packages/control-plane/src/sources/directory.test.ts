import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigStore } from '../store.ts'
import { DirectorySource } from './directory.ts'

let dir: string
let source: DirectorySource | undefined

const svc = (name: string, ns = 'default') => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {ports: [{name: http, port: 9080}]}
`
const keys = (store: ConfigStore) => [...store.values()].map((o) => o.key).sort()
async function eventually(pred: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dirsource-'))
})
afterEach(async () => {
  await source?.close()
  source = undefined
  rmSync(dir, { recursive: true, force: true })
})

describe('DirectorySource', () => {
  it('reads *.yaml, *.yml and *.json recursively, multi-document and kind: List', async () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true })
    writeFileSync(join(dir, 'one.yaml'), `${svc('one')}---\n${svc('two')}`)
    writeFileSync(
      join(dir, 'a', 'b', 'list.yml'),
      `apiVersion: v1\nkind: List\nitems:\n- ${svc('three').replaceAll('\n', '\n  ')}`,
    )
    writeFileSync(
      join(dir, 'a', 'four.json'),
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'four' } }),
    )
    writeFileSync(join(dir, 'a', 'notes.txt'), svc('ignored'))
    writeFileSync(join(dir, '.hidden.yaml'), svc('hidden'))
    const store = new ConfigStore()
    source = new DirectorySource(dir, { settleMs: 5 })
    await source.start(store)
    expect(keys(store)).toEqual([
      'core/Namespace//four',
      'core/Service/default/one',
      'core/Service/default/three',
      'core/Service/default/two',
    ])
  })

  it('follows writes, atomic renames, deletions and new directories', async () => {
    const store = new ConfigStore()
    source = new DirectorySource(dir, { settleMs: 5 })
    await source.start(store)
    expect(keys(store)).toEqual([])
    // The local cluster's layout and way of writing: DIR/<kind>/<ns>/<name>.yaml via temp + rename.
    mkdirSync(join(dir, 'service', 'default'), { recursive: true })
    writeFileSync(join(dir, 'service', 'default', '.r.tmp'), svc('reviews'))
    renameSync(join(dir, 'service', 'default', '.r.tmp'), join(dir, 'service', 'default', 'reviews.yaml'))
    await eventually(() => keys(store).includes('core/Service/default/reviews'))
    writeFileSync(join(dir, 'service', 'default', 'reviews.yaml'), svc('ratings'))
    await eventually(() => keys(store).join() === 'core/Service/default/ratings')
    rmSync(join(dir, 'service', 'default', 'reviews.yaml'))
    await eventually(() => keys(store).length === 0)
    mkdirSync(join(dir, 'pod', 'ns1'), { recursive: true })
    writeFileSync(join(dir, 'pod', 'ns1', 'x.yaml'), svc('x', 'ns1'))
    await eventually(() => keys(store).join() === 'core/Service/ns1/x')
    rmSync(join(dir, 'pod'), { recursive: true })
    await eventually(() => keys(store).length === 0)
  })

  it('keeps the objects of a file that stops parsing, and reports it', async () => {
    writeFileSync(join(dir, 'x.yaml'), svc('x'))
    const store = new ConfigStore()
    source = new DirectorySource(dir, { settleMs: 5 })
    await source.start(store)
    writeFileSync(join(dir, 'x.yaml'), 'kind: [\n')
    await eventually(() => store.originProblems().size === 1)
    expect(keys(store)).toEqual(['core/Service/default/x'])
    expect([...store.originProblems().keys()]).toEqual([join(dir, 'x.yaml')])
    writeFileSync(join(dir, 'x.yaml'), svc('y'))
    await eventually(() => keys(store).join() === 'core/Service/default/y')
    expect(store.originProblems().size).toBe(0)
  })

  it('reports an object without a name and keeps the rest of the file', async () => {
    writeFileSync(join(dir, 'x.yaml'), `${svc('x')}---\napiVersion: v1\nkind: Service\nmetadata: {}\n`)
    const store = new ConfigStore()
    source = new DirectorySource(dir, { settleMs: 5 })
    await source.start(store)
    expect(keys(store)).toEqual(['core/Service/default/x'])
    expect(store.originProblems().get(join(dir, 'x.yaml'))?.[0]?.message).toMatch(/metadata.name/)
  })

  it('fails to start, clearly, on a missing, non-directory or unreadable path', async () => {
    const store = new ConfigStore()
    await expect(new DirectorySource(join(dir, 'nope')).start(store)).rejects.toMatchObject({
      code: 'MESH_ERR_MESHD_CONFIG_DIR',
      message: expect.stringMatching(/does not exist/),
    })
    writeFileSync(join(dir, 'file'), '')
    await expect(new DirectorySource(join(dir, 'file')).start(store)).rejects.toMatchObject({
      message: expect.stringMatching(/not a directory/),
    })
    if (process.getuid?.() !== 0) {
      mkdirSync(join(dir, 'locked'))
      chmodSync(join(dir, 'locked'), 0)
      await expect(new DirectorySource(join(dir, 'locked')).start(store)).rejects.toMatchObject({
        message: expect.stringMatching(/not readable/),
      })
    }
  })
})
