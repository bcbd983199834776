import { html, type SafeHtml, trustedHtml } from './html.ts'
import type { Product } from './products.ts'

export const DETAILS_ERROR = 'Sorry, product details are currently unavailable for this book.'
export const REVIEWS_ERROR = 'Sorry, product reviews are currently unavailable for this book.'
export const RATINGS_ERROR = 'Sorry, product ratings are currently unavailable for this book.'

/** An answer from a peer: its JSON, or the message to show instead. */
export type Fetched<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string }

export interface ProductPageModel {
  readonly product: Product
  /** The signed-in user, if any. */
  readonly user?: string
  readonly details: Fetched<unknown>
  readonly reviews: Fetched<unknown>
}

const STYLE = trustedHtml(`
  body { font-family: "Helvetica Neue", Arial, sans-serif; margin: 0; color: #222; }
  nav { background: #1f2d3a; color: #fff; padding: 10px 24px; display: flex; justify-content: space-between; align-items: center; }
  nav a, nav button { color: #fff; }
  nav form { display: inline; }
  nav input { margin-left: 6px; }
  main { max-width: 1100px; margin: 0 auto; padding: 12px 24px; }
  .columns { display: flex; gap: 48px; flex-wrap: wrap; }
  .columns > section { flex: 1 1 360px; }
  dl.details dt { font-weight: bold; float: left; clear: left; width: 110px; }
  dl.details dd { margin-left: 120px; }
  blockquote { border-left: 4px solid #ddd; margin: 12px 0; padding: 4px 12px; }
  blockquote small { display: block; color: #666; }
  blockquote small::before { content: "\\2014 \\00A0"; }
  .glyphicon { font-size: 18px; font-style: normal; }
  .glyphicon-star::before { content: "\\2605"; }
  .glyphicon-star-empty::before { content: "\\2606"; }
  .text-danger { color: #a94442; }
`)

/** Bootstrap's glyphicon class names, so a star is counted the way Istio's Bookinfo tests count them. */
export function renderStars(stars: number, color: string): SafeHtml {
  const filled = Math.max(0, Math.min(5, Math.trunc(stars)))
  const safeColor = /^(?:[A-Za-z]{1,30}|#[0-9A-Fa-f]{3,8})$/.test(color) ? color : 'black'
  const star = (kind: string) => html`<span class="glyphicon ${kind}" style="color:${safeColor}"></span>`
  const out: SafeHtml[] = []
  for (let i = 0; i < 5; i++) out.push(star(i < filled ? 'glyphicon-star' : 'glyphicon-star-empty'))
  return html`<span class="stars" aria-label="${filled} of 5 stars">${out}</span>`
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : ''
}

function renderDetails(details: Fetched<unknown>): SafeHtml {
  if (!details.ok) {
    return html`<h4 class="text-danger">Error fetching product details!</h4>
      <p class="details-error">${details.error}</p>`
  }
  const d = asRecord(details.value)
  const rows: [string, unknown][] = [
    ['Author', d.author],
    ['Year', d.year],
    ['Type', d.type],
    ['Pages', d.pages],
    ['Publisher', d.publisher],
    ['Language', d.language],
    ['ISBN-10', d['ISBN-10']],
    ['ISBN-13', d['ISBN-13']],
  ]
  return html`<dl class="details">${rows.map(([k, v]) => html`<dt>${k}:</dt><dd>${text(v)}</dd>`)}</dl>`
}

function renderRating(rating: unknown): SafeHtml {
  const r = asRecord(rating)
  if (typeof r.stars === 'number') return renderStars(r.stars, text(r.color))
  if (typeof r.error === 'string') return html`<p class="rating-error" style="color:red">${r.error}</p>`
  return html``
}

function renderReviews(reviews: Fetched<unknown>): SafeHtml {
  if (!reviews.ok) {
    return html`<h4 class="text-danger">Error fetching product reviews!</h4>
      <p class="reviews-error">${reviews.error}</p>`
  }
  const body = asRecord(reviews.value)
  const list = Array.isArray(body.reviews) ? body.reviews.map(asRecord) : []
  const cluster = text(body.clustername)
  return html`${list.map(
    (review) => html`<blockquote class="review">
        <p>${text(review.text)}</p>
        <small>${text(review.reviewer)}</small>
        ${'rating' in review ? renderRating(review.rating) : ''}
      </blockquote>`,
  )}
    <p class="served-by">Reviews served by: <u>${text(body.podname)}</u>${
      cluster && cluster !== 'null' ? html` on cluster <u>${cluster}</u>` : ''
    }</p>`
}

function renderUser(user: string | undefined): SafeHtml {
  if (user) {
    return html`<span class="user">Welcome, <b>${user}</b> <a href="/logout">Sign out</a></span>`
  }
  return html`<form method="post" action="/login">
      <input type="text" name="username" placeholder="User name" required>
      <input type="password" name="passwd" placeholder="Password">
      <button type="submit">Sign in</button>
    </form>`
}

function layout(body: SafeHtml, user: string | undefined): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Simple Bookstore App</title>
  <style>${STYLE}</style>
</head>
<body>
  <nav><a href="/">BookInfo Sample</a>${renderUser(user)}</nav>
  <main>${body}</main>
</body>
</html>
`.value
}

/** The product page: the book, its details from details, its reviews (and stars) from reviews. */
export function renderProductPage(model: ProductPageModel): string {
  const body = html`<h1>${model.product.title}</h1>
    <p class="description">${model.product.descriptionHtml}</p>
    <div class="columns">
      <section id="details"><h2>Book Details</h2>${renderDetails(model.details)}</section>
      <section id="reviews"><h2>Book Reviews</h2>${renderReviews(model.reviews)}</section>
    </div>`
  return layout(body, model.user)
}

/** The landing page at `/`: what the app is and where to go. */
export function renderIndex(user: string | undefined): string {
  const body = html`<h1>Hello! This is a simple bookstore application.</h1>
    <p>It is made of four services: <b>productpage</b> (this page), <b>details</b>, <b>reviews</b>
      (in three versions) and <b>ratings</b>. Routing between them is left to the mesh.</p>
    <p><a href="/productpage">Go to the product page</a></p>
    <h2>API</h2>
    <ul>
      <li><a href="/api/v1/products">/api/v1/products</a></li>
      <li><a href="/api/v1/products/0">/api/v1/products/0</a></li>
      <li><a href="/api/v1/products/0/reviews">/api/v1/products/0/reviews</a></li>
      <li><a href="/api/v1/products/0/ratings">/api/v1/products/0/ratings</a></li>
    </ul>`
  return layout(body, user)
}
