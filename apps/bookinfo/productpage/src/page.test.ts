import { describe, expect, it } from 'vitest'
import { escapeHtml, html } from './html.ts'
import { DETAILS_ERROR, REVIEWS_ERROR, renderProductPage, renderStars } from './page.ts'
import { PRODUCTS } from './products.ts'

const count = (text: string, needle: string) => text.split(needle).length - 1
const product = PRODUCTS[0]!

describe('html', () => {
  it('escapes every interpolated value unless it is SafeHtml', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;')
    const inner = html`<i>${'<b>'}</i>`
    expect(html`<p>${inner}${['<', html`<br>`]}${undefined}${null}${false}${3}</p>`.value).toBe(
      '<p><i>&lt;b&gt;</i>&lt;<br>3</p>',
    )
  })
})

describe('renderStars', () => {
  it('draws filled then empty stars in the colour', () => {
    const out = renderStars(4, 'red').value
    expect(count(out, '<span class="glyphicon glyphicon-star" style="color:red">')).toBe(4)
    expect(count(out, '<span class="glyphicon glyphicon-star-empty" style="color:red">')).toBe(1)
  })

  it('clamps stars to 0..5 and refuses a colour that is not one', () => {
    expect(count(renderStars(9, 'black').value, 'glyphicon-star"')).toBe(5)
    expect(count(renderStars(-1, 'black').value, 'glyphicon-star-empty"')).toBe(5)
    const hostile = renderStars(1, 'red;background:url(//x)').value
    expect(hostile).not.toContain('url(')
    expect(count(hostile, 'style="color:black"')).toBe(5)
  })
})

describe('renderProductPage', () => {
  it('shows both error texts when details and reviews failed', () => {
    const page = renderProductPage({
      product,
      details: { ok: false, error: DETAILS_ERROR },
      reviews: { ok: false, error: REVIEWS_ERROR },
    })
    expect(page).toContain('<title>Simple Bookstore App</title>')
    expect(page).toContain('Error fetching product details!')
    expect(page).toContain(DETAILS_ERROR)
    expect(page).toContain('Error fetching product reviews!')
    expect(page).toContain(REVIEWS_ERROR)
    expect(page).not.toContain('Reviews served by')
  })

  it('escapes whatever the peers and the user sent', () => {
    const page = renderProductPage({
      product,
      user: '<img src=x onerror=alert(1)>',
      details: { ok: true, value: { author: '<script>alert(1)</script>', pages: 200 } },
      reviews: {
        ok: true,
        value: {
          podname: '"><script>x()</script>',
          clustername: 'east<1>',
          reviews: [
            { reviewer: '<b>r</b>', text: '</p><h1>', rating: { error: '<svg onload=x>' } },
            { reviewer: 'ok', text: 'fine', rating: { stars: 3, color: 'red' } },
          ],
        },
      },
    })
    expect(page).not.toMatch(/<script>|<img |<svg |<h1><\/p>|<b>r<\/b>/)
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(page).toContain(
      'Reviews served by: <u>&quot;&gt;&lt;script&gt;x()&lt;/script&gt;</u> on cluster <u>east&lt;1&gt;</u>',
    )
    expect(page).toContain('<p class="rating-error" style="color:red">&lt;svg onload=x&gt;</p>')
    expect(page).toContain('Welcome, <b>&lt;img src=x onerror=alert(1)&gt;</b>')
    expect(count(page, 'class="glyphicon glyphicon-star" style="color:red"')).toBe(3)
  })

  it('offers sign-in when no one is signed in', () => {
    const page = renderProductPage({
      product,
      details: { ok: true, value: {} },
      reviews: { ok: true, value: {} },
    })
    expect(page).toContain('<form method="post" action="/login">')
    expect(page).toContain('name="username"')
    expect(page).not.toContain('Sign out')
  })
})
