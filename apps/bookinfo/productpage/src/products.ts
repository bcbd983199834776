import { type SafeHtml, trustedHtml } from './html.ts'

export interface Product {
  readonly id: number
  readonly title: string
  /** Written here, not received: safe to put into the page as markup. */
  readonly descriptionHtml: SafeHtml
}

/** The bookstore's one book. Its details and reviews come from the details and reviews services. */
export const PRODUCTS: readonly Product[] = [
  {
    id: 0,
    title: 'The Comedy of Errors',
    descriptionHtml: trustedHtml(
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: ' +
        'two sets of identical twins, separated at birth, turn up in the same town on the same day. ' +
        "One of <b>William Shakespeare</b>'s earliest comedies and his shortest play, it runs on " +
        'mistaken identity, slapstick and word play.',
    ),
  },
]

/** The product list as the API answers it. */
export function productsJson(): { id: number; title: string; descriptionHtml: string }[] {
  return PRODUCTS.map((p) => ({ id: p.id, title: p.title, descriptionHtml: p.descriptionHtml.value }))
}
