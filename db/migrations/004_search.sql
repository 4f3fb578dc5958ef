-- Search (Postgres backend): a denormalised search row per product, kept in step with products and inventory
-- by the outbox worker (storefront/outbox-worker.ts) and rebuilt by `npm run search:reindex`. It plays the part
-- an Elasticsearch index plays in the other backend. pg_trgm lives in schema public (see infra/migrate.ts).

CREATE TABLE product_search (
  product_id  bigint PRIMARY KEY,
  name        text NOT NULL,
  category    text NOT NULL,
  price_cents integer NOT NULL,
  in_stock    boolean NOT NULL,
  seller_id   bigint NOT NULL,
  description text NOT NULL,
  -- Sync version of this row (monotonic per drain); an older state never overwrites a newer one.
  version     bigint NOT NULL DEFAULT 0,
  -- Full text: name weighs most, then category, then description. 'simple' keeps brand and model names intact.
  document    tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, name), 'A') ||
    setweight(to_tsvector('simple'::regconfig, category), 'B') ||
    setweight(to_tsvector('simple'::regconfig, description), 'D')
  ) STORED
);
CREATE INDEX product_search_document ON product_search USING gin (document);
-- No trigram index on the name itself: typos are resolved against the word list below (a few thousand rows,
-- KNN), and trigram similarity to the name is only computed for the 100 best matches, so it would go unused.
-- Browsing: a category page in price order, all products in price order, and facet counts read from the
-- index alone (index-only scan) under the in-stock and price filters.
CREATE INDEX product_search_category_price ON product_search (category, price_cents, product_id);
CREATE INDEX product_search_price ON product_search (price_cents, product_id);
CREATE INDEX product_search_facets ON product_search (category, in_stock, price_cents);
-- Searches are many and short: no parallel workers (they cost more than they save on a busy 2-core box).
ALTER TABLE product_search SET (parallel_workers = 0);

-- The words of every product name, for typo correction: a misspelt query word is replaced by its nearest
-- words here (trigram distance, GiST KNN), the way the pg_trgm docs suggest pairing trigrams with full text.
CREATE TABLE search_terms (
  term text PRIMARY KEY,
  docs integer NOT NULL DEFAULT 1
);
CREATE INDEX search_terms_trgm ON search_terms USING gist (term public.gist_trgm_ops);


-- Version stamped on search rows (and Elasticsearch documents) by each outbox drain and each reindex.
CREATE SEQUENCE search_sync_version;
