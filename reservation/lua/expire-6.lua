--[[
  Expire holds whose time is up and give their units back. Holds in state `paying` are not in the holds
  zset (checkout takes them out), so a payment in flight is never expired under it.
  KEYS[1] meta  KEYS[2] stock  KEYS[3] holds  KEYS[4] users  KEYS[5] stats  KEYS[6] events
  ARGV[1] now (epoch ms)   ARGV[2] most holds to expire in this call
  Returns the number of holds expired.
]]
--- @include "includes/return-hold"
local base = string.sub(KEYS[1], 1, -5)
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, rid in ipairs(due) do
  if returnHold(base, KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], rid, 'expired') then
    n = n + 1
  else
    redis.call('ZREM', KEYS[3], rid)
  end
end
return n
