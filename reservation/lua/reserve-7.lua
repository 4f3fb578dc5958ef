--[[
  Reserve units of an open sale for one user, atomically: sale open, idempotency, single-use admission,
  stock, per-user limit, the decrement, the hold record and an event for settlement.

  KEYS[1] meta    {sale:<id>}:meta      KEYS[2] stock   {sale:<id>}:stock
  KEYS[3] holds   {sale:<id>}:holds     KEYS[4] users   {sale:<id>}:users
  KEYS[5] idem    {sale:<id>}:idem      KEYS[6] stats   {sale:<id>}:stats
  KEYS[7] events  {sale:<id>}:events
  ARGV[1] user id            ARGV[2] quantity (integer >= 1)   ARGV[3] now (epoch ms)
  ARGV[4] idempotency key or ""          ARGV[5] admission token id (jti) or ""
  ARGV[6] seconds to keep the admission marker

  Returns {status, reservationId, quantity, expiresAt} (the last two as integers); status is one of
  OK, DUPLICATE (same idempotency key: the first result again), NOT_OPEN, NOT_ADMITTED (token spent),
  SOLD_OUT, LIMIT, INVALID (quantity is not a whole number >= 1; callers validate first, this is a guard).
  The hold records key and admission markers are built from the meta key's hash-tagged base, so every
  key touched lives in the same slot.
]]
--- @include "includes/reserve-many"
local out = reserveMany(KEYS, tonumber(ARGV[3]), {ARGV[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]}, 1)
out[3], out[4] = tonumber(out[3]), tonumber(out[4]) -- reserveMany answers text
return out
