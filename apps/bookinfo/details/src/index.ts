export { buildDetailsApp, type DetailsOptions, startDetails } from './app.ts'
export { type BookDetails, bookDetails } from './details.ts'
