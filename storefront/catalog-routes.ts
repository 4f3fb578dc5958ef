import type { Context } from '../infra/context.js';
import { getProduct, parseProductId } from './catalog.js';
import { parseSearchParams, searchKey, type SearchBackend, type SearchCache } from './search/index.js';
import type { Route } from '../infra/http.js';

/**
 * GET /api/products/search and GET /api/products/:id (search is registered first: it is the more specific path).
 * Ids go out as strings, like every id on the wire.
 */
export function catalogRoutes(ctx: Context, backend: SearchBackend, cache: SearchCache | null): Route[] {
  return [
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
        const product = await getProduct(ctx.db, parseProductId(req.params.id ?? ''));
        return { status: 200, body: { ...product, id: String(product.id), sellerId: String(product.sellerId) } };
      },
    },
  ];
}
