import { z } from 'zod';
import { cents, idString, idempotencyKeyHeader, isoTime, replayedHeader } from '../infra/api-schemas.js';
import type { ApiDocs } from '../infra/openapi.js';
import { cartCheckoutBody, quantityBody } from './cart-routes.js';
import { productInput } from './catalog.js';
import { searchQuery } from './search/params.js';

const cartLine = z.object({
  productId: idString,
  name: z.string(),
  quantity: z.number().int(),
  unitPriceCents: cents,
  lineTotalCents: cents,
  inStock: z.boolean(),
  available: z.boolean(),
});
const cart = z.object({
  items: z.array(cartLine),
  itemCount: z.number().int(),
  totalCents: cents,
  available: z.boolean(),
  cartToken: z.string().optional().describe('anonymous carts: the token to send back as X-Cart-Token'),
});
const cartHeaders = [
  { name: 'X-Cart-Token', description: 'the anonymous cart token (callers without a Bearer token)' },
];
const cartReply = { description: 'the cart with current prices and availability', body: cart, headers: { 'x-cart-token': 'anonymous carts: the cart token' } };
const merchantProduct = z.object({
  id: idString,
  sku: z.string(),
  name: z.string(),
  description: z.string(),
  category: z.string(),
  priceCents: cents,
  sellerId: idString,
  stock: z.number().int(),
  version: z.number().int(),
  createdAt: isoTime,
});
const productParam = { productId: 'the product id' };

/** The storefront's routes: the merchant's products, search, product pages, carts and the regular checkout. */
export const storefrontApi: ApiDocs = {
  'POST /admin/products': {
    summary: 'Create a product',
    tag: 'merchant',
    auth: 'admin',
    body: productInput,
    responses: { 201: { description: 'the product', body: merchantProduct } },
    errors: ['invalid_request', 'unauthorized', 'conflict'],
  },
  'GET /admin/products/:id': {
    summary: 'A product with its stock',
    tag: 'merchant',
    auth: 'admin',
    params: { id: 'the product id' },
    responses: { 200: { description: 'the product', body: merchantProduct } },
    errors: ['unauthorized', 'not_found'],
  },
  'GET /api/products/search': {
    summary: 'Search products',
    description: 'Full-text search with category and price filters; facets count every match, so they add up to `total`.',
    tag: 'storefront',
    auth: 'none',
    query: searchQuery,
    responses: {
      200: {
        description: 'a page of hits',
        body: z.object({
          total: z.number().int(),
          hits: z.array(z.object({ id: idString, name: z.string(), priceCents: cents, category: z.string(), inStock: z.boolean() })),
          facets: z.object({ category: z.array(z.object({ value: z.string(), count: z.number().int() })) }),
        }),
      },
    },
    errors: ['invalid_request'],
  },
  'GET /api/products/:id': {
    summary: 'A product',
    tag: 'storefront',
    auth: 'none',
    params: { id: 'the product id' },
    responses: {
      200: {
        description: 'the product with its price and whether it is in stock',
        body: z.object({ id: idString, sku: z.string(), name: z.string(), description: z.string(), category: z.string(), priceCents: cents, sellerId: idString, inStock: z.boolean(), updatedAt: isoTime }),
      },
    },
    errors: ['invalid_request', 'not_found'],
  },
  'GET /api/cart': {
    summary: 'The cart',
    tag: 'cart',
    auth: 'optional-user',
    headers: cartHeaders,
    responses: { 200: cartReply },
    errors: ['invalid_request', 'unauthorized'],
  },
  'PUT /api/cart/items/:productId': {
    summary: 'Set a line’s quantity',
    tag: 'cart',
    auth: 'optional-user',
    params: productParam,
    headers: cartHeaders,
    body: quantityBody,
    responses: { 200: cartReply },
    errors: ['invalid_request', 'unauthorized', 'not_found', 'conflict', 'too_many_requests'],
  },
  'DELETE /api/cart/items/:productId': {
    summary: 'Remove a line',
    tag: 'cart',
    auth: 'optional-user',
    params: productParam,
    headers: cartHeaders,
    responses: { 200: cartReply },
    errors: ['invalid_request', 'unauthorized'],
  },
  'POST /api/checkout': {
    summary: 'Check out the cart',
    description: 'Charges the cart’s total and writes the order; stock is taken atomically.',
    tag: 'cart',
    auth: 'user',
    headers: [{ ...idempotencyKeyHeader, required: true }],
    body: cartCheckoutBody,
    responses: {
      201: { description: 'the order', body: z.object({ orderId: idString, status: z.enum(['paid', 'pending']), totalCents: cents }), headers: replayedHeader },
    },
    errors: ['invalid_request', 'unauthorized', 'payment_declined', 'out_of_stock', 'conflict', 'idempotency_conflict', 'checkout_in_progress'],
  },
};
