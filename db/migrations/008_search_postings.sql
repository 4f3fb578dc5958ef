-- Search postings (Postgres backend): one row per (word, product) of product_search.document, so a text search
-- reads narrow index entries instead of whole search rows. Each row carries the filter and facet columns and
-- the product's tsvector entry for that word (its positions and weights). ts_rank only looks at the entries a
-- query names, so ranking the entries of the words that matched gives exactly ts_rank of the whole document.
-- `word_rank` is ts_rank of the entry against the word alone: for a one-word search it orders the postings of
-- a word as the search's relevance does, so the best ones are read first from an index. Kept in step with
-- product_search by PostgresSearch.apply and rebuilt with it by reindex (storefront/search/postings.ts).
CREATE TABLE search_postings (
  lexeme      text COLLATE "C" NOT NULL,
  product_id  bigint NOT NULL,
  category    text NOT NULL,
  price_cents bigint  NOT NULL,
  in_stock    boolean NOT NULL,
  word_rank   real NOT NULL,
  entry       tsvector NOT NULL,
  PRIMARY KEY (lexeme, product_id)
);
-- Relevance order of a word's postings, and price order; both cover what a search reads (index-only scans).
CREATE INDEX search_postings_rank ON search_postings (lexeme, word_rank DESC, product_id) INCLUDE (category, price_cents, in_stock, entry);
CREATE INDEX search_postings_price ON search_postings (lexeme, price_cents, product_id) INCLUDE (category, in_stock);
ALTER TABLE search_postings SET (parallel_workers = 0);

-- Every word of every document: a query word is resolved to the words it matches here (those it starts, and
-- its corrections) before postings are read. Only grows between reindexes.
CREATE TABLE search_lexemes (
  lexeme text COLLATE "C" PRIMARY KEY
);

-- How many products hold each word, per category and stock flag: the facet counts of a one-word search without
-- a price filter are a sum over at most 30 rows.
-- Kept exact by the same transactions that change the postings.
CREATE TABLE search_counts (
  lexeme   text COLLATE "C" NOT NULL,
  category text NOT NULL,
  in_stock boolean NOT NULL,
  n        integer NOT NULL,
  PRIMARY KEY (lexeme, category, in_stock)
);
