import { requireAdmin } from '../infra/auth.js';
import type { Context } from '../infra/context.js';
import { AppError, notFound } from '../infra/errors.js';
import { parseId, type Route } from '../infra/http.js';
import { createProduct, getProduct, merchantProductView, productInput, shopperProductView } from './catalog.js';
import { parseSearchParams, searchKey, type SearchBackend, type SearchCache } from './search/index.js';

/**
 * The catalog's routes. Merchant (Bearer ADMIN_API_KEY): POST /admin/products, GET /admin/products/:id.
 * Shopper: GET /api/products/search and GET /api/products/:id (search is registered first: it is the more
 * specific path). Ids go out as strings, like every id on the wire.
 */
export function catalogRoutes(ctx: Context, backend: SearchBackend, cache: SearchCache | null): Route[] {
  return [
    {
      method: 'post',
      path: '/admin/products',
      handler: async (req) => {
        requireAdmin(ctx.config, req);
        return { status: 201, body: merchantProductView(await createProduct(ctx, productInput.parse(req.body))) };
      },
    },
    {
      method: 'get',
      path: '/admin/products/:id',
      handler: async (req) => {
        requireAdmin(ctx.config, req);
        const id = parseId(req.params.id);
        const product = id && (await getProduct(ctx.db, id));
        if (!product) throw notFound('product');
        return { status: 200, body: merchantProductView(product) };
      },
    },
    {
      method: 'get',
      path: '/api/products/search',
      handler: async (req) => {
        const params = parseSearchParams(req.query);
        const result = cache ? await cache.get(searchKey(params), params, () => backend.search(params)) : await backend.search(params);
        return { status: 200, body: { ...result, hits: result.hits.map((hit) => ({ ...hit, id: String(hit.id) })) } };
      },
    },
    {
      method: 'get',
      path: '/api/products/:id',
      handler: async (req) => {
        const id = parseId(req.params.id);
        if (!id) throw new AppError('invalid_request', 'id: must be a positive integer', 'id');
        const product = await getProduct(ctx.db, id);
        if (!product) throw notFound('product');
        return { status: 200, body: shopperProductView(product) };
      },
    },
  ];
}
