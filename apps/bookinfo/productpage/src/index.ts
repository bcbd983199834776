export { buildProductpageApp, type ProductpageOptions, startProductpage } from './app.ts'
export { escapeHtml, html, SafeHtml, trustedHtml } from './html.ts'
export {
  DETAILS_ERROR,
  type Fetched,
  type ProductPageModel,
  RATINGS_ERROR,
  REVIEWS_ERROR,
  renderIndex,
  renderProductPage,
  renderStars,
} from './page.ts'
export { PRODUCTS, type Product } from './products.ts'
