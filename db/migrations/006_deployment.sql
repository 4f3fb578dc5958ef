-- This deployment's id, made once per database schema: the prefix of every idempotency key the engine sends
-- to the PSP, so deployments sharing one PSP account (staging and production, two regions, test worlds)
-- never meet each other's charges. DEPLOYMENT_ID overrides it (give a restored copy of the database its own).
CREATE TABLE deployment (
  id         text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO deployment (id) SELECT substr(replace(gen_random_uuid()::text, '-', ''), 1, 16);
