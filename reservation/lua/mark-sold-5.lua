--[[
  Mark paid holds as sold: state paying -> sold, their units move from stats.held to stats.sold, and they
  leave the paying zset. Idempotent: a hold already sold is left as it is.
  KEYS[1] meta  {sale:<id>}:meta   (only its hash-tagged base is used, to find hold hashes)
  KEYS[2] stats  KEYS[3] paying  KEYS[4] events
  KEYS[5] sold   {sale:<id>}:sold   set of sold reservation ids (reconciliation compares it with Postgres)
  ARGV[1..n] reservation ids
  Returns one status per id: SOLD (now), ALREADY (was sold), or the unexpected state it was in
  (held, released, expired, or MISSING when there is no such hold); those are left untouched.
]]
local base = string.sub(KEYS[1], 1, -5)
local out = {}
for i, rid in ipairs(ARGV) do
  local holdKey = base .. 'hold:' .. rid
  local h = redis.call('HMGET', holdKey, 'userId', 'quantity', 'status')
  if not h[1] then
    out[i] = 'MISSING'
  elseif h[3] == 'sold' then
    redis.call('ZREM', KEYS[3], rid)
    redis.call('SADD', KEYS[5], rid)
    out[i] = 'ALREADY'
  elseif h[3] == 'paying' then
    local q = tonumber(h[2])
    redis.call('HSET', holdKey, 'status', 'sold')
    redis.call('ZREM', KEYS[3], rid)
    redis.call('SADD', KEYS[5], rid)
    redis.call('HINCRBY', KEYS[2], 'held', -q)
    redis.call('HINCRBY', KEYS[2], 'sold', q)
    redis.call('XADD', KEYS[4], 'MAXLEN', '~', 100000, '*', 'type', 'sold', 'rid', rid, 'userId', h[1], 'quantity', q)
    out[i] = 'SOLD'
  else
    out[i] = h[3]
  end
end
return out
