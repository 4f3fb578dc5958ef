--[[
  Mark paid holds as sold: state paying -> sold, their units move from stats.held to stats.sold, and they
  leave the paying zset. Idempotent: a hold already sold is left as it is.
  KEYS[1] meta  {sale:<id>}:meta   (only its hash-tagged base is used, to find the hold records)
  KEYS[2] stats  KEYS[3] paying  KEYS[4] events
  KEYS[5] sold   {sale:<id>}:sold   set of sold reservation ids (reconciliation compares it with Postgres)
  ARGV[1..n] reservation ids
  Returns one status per id: SOLD (now), ALREADY (was sold), or the unexpected state it was in
  (held, released, expired, or MISSING when there is no such hold); those are left untouched.
]]
--- @include "includes/hold-record"
--- @include "includes/capped-append"
local base = string.sub(KEYS[1], 1, -5)
local recordsKey = base .. 'records'
local out = {}
for i, rid in ipairs(ARGV) do
  local h = readHold(recordsKey, rid)
  if not h then
    out[i] = 'MISSING'
  elseif h.status == 'sold' then
    redis.call('ZREM', KEYS[3], rid)
    redis.call('SADD', KEYS[5], rid)
    out[i] = 'ALREADY'
  elseif holdCan(h.status, 'sold') then
    local q = tonumber(h.quantity)
    setHoldStatus(recordsKey, rid, h, 'sold')
    redis.call('ZREM', KEYS[3], rid)
    redis.call('SADD', KEYS[5], rid)
    redis.call('HINCRBY', KEYS[2], 'held', -q)
    redis.call('HINCRBY', KEYS[2], 'sold', q)
    cappedAppend(KEYS[4], 'type', 'sold', 'rid', rid, 'userId', h.userId, 'quantity', q)
    out[i] = 'SOLD'
  else
    out[i] = h.status
  end
end
return out
