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

  Returns {status, reservationId, quantity, expiresAt}; status is one of
  OK, DUPLICATE (same idempotency key: the first result again), NOT_OPEN, NOT_ADMITTED (token spent),
  SOLD_OUT, LIMIT, INVALID (quantity is not a whole number >= 1; callers validate first, this is a guard).
  Hold hashes and admission markers are built from the meta key's hash-tagged base, so every key touched
  lives in the same slot.
]]
local userId = ARGV[1]
local qty = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local idemKey = ARGV[4]
local jti = ARGV[5]
local base = string.sub(KEYS[1], 1, -5) -- strip "meta"

if not qty or qty < 1 or qty ~= math.floor(qty) then
  return {'INVALID', '', 0, 0}
end

local idemField = nil
if idemKey ~= '' then
  idemField = userId .. ':' .. idemKey
  local prior = redis.call('HGET', KEYS[5], idemField)
  if prior then
    local rid, q, exp = string.match(prior, '^([^|]+)|([^|]+)|([^|]+)$')
    return {'DUPLICATE', rid, tonumber(q), tonumber(exp)}
  end
end

local meta = redis.call('HMGET', KEYS[1], 'id', 'status', 'perUserLimit', 'holdSeconds', 'startsAt', 'endsAt')
local saleId, status = meta[1], meta[2]
if status ~= 'open' or now < tonumber(meta[5]) or now >= tonumber(meta[6]) then
  return {'NOT_OPEN', '', 0, 0}
end

if jti ~= '' and redis.call('EXISTS', base .. 'admission:' .. jti) == 1 then
  return {'NOT_ADMITTED', '', 0, 0}
end

local stock = tonumber(redis.call('GET', KEYS[2]) or '0')
if stock < qty then
  return {'SOLD_OUT', '', 0, 0}
end

local used = tonumber(redis.call('HGET', KEYS[4], userId) or '0')
if used + qty > tonumber(meta[3]) then
  return {'LIMIT', '', 0, 0}
end

redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[4], userId, qty)
redis.call('HINCRBY', KEYS[6], 'held', qty)
local rid = saleId .. '-' .. redis.call('INCR', base .. 'seq')
local expiresAt = now + tonumber(meta[4]) * 1000
redis.call('HSET', base .. 'hold:' .. rid, 'userId', userId, 'quantity', qty, 'expiresAt', expiresAt,
  'status', 'held', 'createdAt', now)
redis.call('ZADD', KEYS[3], expiresAt, rid)
if idemField then
  redis.call('HSET', KEYS[5], idemField, rid .. '|' .. qty .. '|' .. expiresAt)
end
if jti ~= '' then
  redis.call('SET', base .. 'admission:' .. jti, rid, 'EX', tonumber(ARGV[6]))
end
redis.call('XADD', KEYS[7], 'MAXLEN', '~', 100000, '*', 'type', 'reserved', 'rid', rid, 'userId', userId, 'quantity', qty)
return {'OK', rid, qty, expiresAt}
