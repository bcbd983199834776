// The image table: this checkout's images run at the tags built of them (kind/images.txt), and a
// tag that was never built is refused, as a kubelet would fail to pull it.
import { describe, expect, it } from 'vitest'
import { containerArgv, defaultImageTable, imageTag } from './images.ts'

describe('image table', () => {
  const table = defaultImageTable()

  it('knows the tags kind/images.txt builds', () => {
    expect(table.find((e) => e.image === 'minimesh/bookinfo-ratings')?.tags).toEqual(['0.1.0'])
    expect(imageTag('minimesh/proxy:0.1.0')).toBe('0.1.0')
    expect(imageTag('localhost:5000/minimesh/proxy')).toBe('latest')
    expect(imageTag('minimesh/proxy@sha256:abc')).toBeUndefined()
  })

  it('runs a built tag and refuses one that does not exist, naming it and the tags there are', () => {
    expect(
      containerArgv(table, { name: 'ratings', image: 'minimesh/bookinfo-ratings:0.1.0' }).argv.at(-1),
    ).toMatch(/apps\/bookinfo\/ratings\/src\/main\.ts$/)
    expect(() => containerArgv(table, { name: 'ratings', image: 'minimesh/bookinfo-ratings:9.9.9' })).toThrow(
      'container "ratings": image "minimesh/bookinfo-ratings:9.9.9": tag "9.9.9" does not exist here (this checkout\'s minimesh/bookinfo-ratings is tagged 0.1.0)',
    )
    expect(() => containerArgv(table, { name: 'ratings', image: 'minimesh/bookinfo-ratings' })).toThrow(
      /tag "latest" does not exist/,
    )
  })
})
