/**
 * The storefront: the catalog and its search (catalogPart), carts and the regular checkout (cartPart), and
 * shopper accounts. Other parts and the gateway use only what is exported here.
 */
export { catalogPart } from './catalog-part.js';
export { createProduct, getProduct, getProducts, productInput, type Product, type ProductInput } from './catalog.js';
export { cartPart, type CartPartOptions } from './cart-part.js';
export { registerUser, loginUser, changePassword, userEmail } from './users.js';
export type { CartView, CartLine } from './cart/view.js';
export { createSearchBackend, bumpGeneration, PostgresSearch } from './search/index.js';
